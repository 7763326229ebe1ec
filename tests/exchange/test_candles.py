"""Candle sync: one fetch per pair in use however many bots share it; backfill; gap repair."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from exchange.gateway import ExchangeGateway
from exchange.models import Candle
from exchange.selectors import candles_recent
from exchange.services.candles import candles_sync
from exchange.services.market_data import market_data_subscribe, market_data_unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """Counts /v5/market/kline requests per (symbol, interval)."""
    calls: Counter[tuple[str, str]] = Counter()
    original = ExchangeGateway.klines

    def klines(self: ExchangeGateway, symbol: str, interval: str, **kw: Any) -> Any:
        calls[(symbol, interval)] += 1
        return original(self, symbol, interval, **kw)

    monkeypatch.setattr(ExchangeGateway, "klines", klines)
    return calls


def test_one_fetch_per_pair_backfill_and_gap_repair(
    sim: Any, settings: Any, counting: Counter[tuple[str, str]]
) -> None:
    """Five bots on two pairs: the first run backfills each pair, later runs fetch each pair
    exactly once; three deleted candles in the middle are fetched back by the next run."""
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 300
    for bot in (1, 2, 3):
        market_data_subscribe(
            environment="simulator", symbol="BTCUSDT", interval="1", consumer=f"bot:{bot}"
        )
    for bot in (4, 5):
        market_data_subscribe(
            environment="simulator", symbol="ETHUSDT", interval="5", consumer=f"bot:{bot}"
        )

    candles_sync()
    btc = Candle.objects.filter(symbol="BTCUSDT", interval="1")
    assert btc.count() >= 300
    assert Candle.objects.filter(symbol="ETHUSDT", interval="5").count() >= 300
    starts = list(btc.order_by("start").values_list("start", flat=True))
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(starts))

    counting.clear()
    sim.advance(minutes=7)
    candles_sync()
    assert counting == {("BTCUSDT", "1"): 1, ("ETHUSDT", "5"): 1}
    assert btc.order_by("-start").first().start >= starts[-1] + timedelta(minutes=6)  # type: ignore[union-attr]

    # A gap: three candles lost in the middle (e.g. an outage that outlived the head page).
    middle = starts[100:103]
    before = {c.start: c.close for c in btc.filter(start__in=middle)}
    btc.filter(start__in=middle).delete()
    counting.clear()
    candles_sync()
    assert counting[("BTCUSDT", "1")] == 2  # the head, and one range for the gap
    assert counting[("ETHUSDT", "5")] == 1
    assert {c.start: c.close for c in btc.filter(start__in=middle)} == before

    recent = candles_recent(environment="simulator", symbol="BTCUSDT", interval="1", limit=10)
    assert len(recent) == 10 and recent[0].start < recent[-1].start
    assert recent[-1].start == btc.order_by("-start").first().start  # type: ignore[union-attr]

    # Unsubscribed pairs are no longer fetched.
    market_data_unsubscribe(consumer="bot:4")
    market_data_unsubscribe(consumer="bot:5")
    counting.clear()
    candles_sync()
    assert set(counting) == {("BTCUSDT", "1")}


def test_an_outage_longer_than_the_head_page_is_filled(
    sim: Any, settings: Any, counting: Counter[tuple[str, str]]
) -> None:
    """Six hours without a sync (more than one 200-candle head page of 1m): the next run pages
    back until it meets the stored candles, leaving no hole."""
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 50
    market_data_subscribe(environment="simulator", symbol="ETHUSDT", interval="1", consumer="bot:9")
    candles_sync()
    sim.advance(minutes=360)
    counting.clear()
    candles_sync()
    starts = list(
        Candle.objects.filter(symbol="ETHUSDT", interval="1")
        .order_by("start")
        .values_list("start", flat=True)
    )
    assert len(starts) >= 50 + 359
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(starts))
    assert counting[("ETHUSDT", "1")] == 2  # the head page and one page further back


def test_an_overlapping_run_skips_a_pair_being_synced(
    sim: Any, settings: Any, counting: Counter[tuple[str, str]]
) -> None:
    """A redelivered or overlapping task finds the pair's lock taken and does not fetch it again."""
    from tradingsvc.lib.redis import get_redis

    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    market_data_subscribe(
        environment="simulator", symbol="BTCUSDT", interval="60", consumer="bot:1"
    )
    get_redis().set("xcandles:lock:simulator:BTCUSDT:60", "1", ex=50)  # another run is on it
    try:
        results = candles_sync()
    finally:
        get_redis().delete("xcandles:lock:simulator:BTCUSDT:60")
    assert results[("simulator", "BTCUSDT", "60")].skipped
    assert counting[("BTCUSDT", "60")] == 0


def test_depth_is_fetched_1000_per_request_and_missing_history_asked_once(
    sim: Any, settings: Any, counting: Counter[tuple[str, str]]
) -> None:
    """A reader needing 25,000 one-minute candles (more than the replay's ~18,500 before its
    start): one head page and the rest by range, 1,000 per request; starts before the exchange's
    history are recorded once as one hole (across pages) and never asked for again, so the next run is one
    request."""
    from exchange.models import CandleHole
    from exchange.services.market_data import market_data_depth

    settings.EXCHANGE_CANDLE_BACKFILL = 1000
    settings.EXCHANGE_CANDLE_DEPTH_MARGIN = 0
    market_data_subscribe(
        environment="simulator", symbol="ETHUSDT", interval="1", consumer="bot:7", lookback=25000
    )
    assert market_data_depth(environment="simulator", symbol="ETHUSDT", interval="1") == 25000

    candles_sync()

    assert counting[("ETHUSDT", "1")] == 26  # the head (999 closed), then 24 x 1,000 + 1 by range
    eth = Candle.objects.filter(environment="simulator", symbol="ETHUSDT", interval="1")
    newest = eth.order_by("-start").first().start  # type: ignore[union-attr]
    window = {newest - timedelta(minutes=i) for i in range(25000)}
    stored = set(eth.filter(start__in=window).values_list("start", flat=True))
    (hole,) = CandleHole.objects.filter(symbol="ETHUSDT", interval="1")
    missing = window - stored
    assert missing and min(missing) == hole.first_start and max(missing) == hole.last_start

    counting.clear()
    candles_sync()
    assert counting[("ETHUSDT", "1")] == 1
    assert CandleHole.objects.filter(symbol="ETHUSDT", interval="1").count() == 1


def test_demo_trading_reads_mainnet_market_data(settings: Any) -> None:
    """A demo-trading consumer claims mainnet's candles (Bybit demo serves no public data of its
    own); testnet keeps its own; a keyless consumer gets the configured default."""
    from exchange.services.market_data import market_data_in_use

    settings.EXCHANGE_MARKET_DATA_ALWAYS = [("SOLUSDT", "5")]
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    market_data_subscribe(environment="demo", symbol="BTCUSDT", interval="15", consumer="bot:1")
    market_data_subscribe(environment="testnet", symbol="BTCUSDT", interval="15", consumer="bot:2")

    assert market_data_in_use() == [
        ("mainnet", "BTCUSDT", "15"),
        ("simulator", "SOLUSDT", "5"),
        ("testnet", "BTCUSDT", "15"),
    ]
