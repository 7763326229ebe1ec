"""The replay itself, in process: candle paths, aggregation, legs for matching, the ladders."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from exchange.simulator import orderbook
from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.market_data import HOUR, MINUTE, REPLAY_START_HIST, MarketData
from exchange.simulator.matching import PriceLadder
from exchange.simulator.records import Order

D = Decimal


@pytest.fixture(scope="module")
def md() -> MarketData:
    return MarketData.load(0)  # offset 0: sim time == history time


def test_path_visits_extremes_in_order(md: MarketData) -> None:
    """Inside a minute: open at :00, first extreme at :20, second at :40, close at the end."""
    c = md.histories["BTCUSDT"].minute(REPLAY_START_HIST)
    assert c is not None
    first, second = (c.low, c.high) if c.close >= c.open else (c.high, c.low)
    t = REPLAY_START_HIST
    assert md.price_at("BTCUSDT", t) == c.open
    assert md.price_at("BTCUSDT", t + 20_000) == first
    assert md.price_at("BTCUSDT", t + 40_000) == second
    legs = md.segments("BTCUSDT", t, t + MINUTE)
    expected = [(c.open, first), (first, second), (second, c.close)]
    assert [(s.p0, s.p1) for s in legs] == [leg for leg in expected if leg[0] != leg[1]]
    assert legs[1].price_time((first + second) / 2) == t + 30_000


def test_segments_over_many_minutes_are_continuous(md: MarketData) -> None:
    """Legs chain in price and time (flat stretches are left out: they cross nothing)."""
    t = REPLAY_START_HIST + 7 * MINUTE + 1234
    legs = md.segments("ETHUSDT", t, t + 30 * MINUTE)
    assert legs[0].t0 >= t and legs[-1].t1 <= t + 30 * MINUTE
    for a, b in itertools.pairwise(legs):
        assert a.t1 <= b.t0 and a.p1 == b.p0 and a.p0 != a.p1
    assert legs[-1].p1 == md.price_at("ETHUSDT", t + 30 * MINUTE)


def test_hourly_candles_agree_between_sources(md: MarketData) -> None:
    """An hour inside the minute window is the merge of its 60 minutes."""
    h = REPLAY_START_HIST + 5 * HOUR
    hour = md.candle("BTCUSDT", h, h + HOUR, h + 2 * HOUR)
    minutes = [md.histories["BTCUSDT"].minute(h + i * MINUTE) for i in range(60)]
    assert hour is not None and all(m is not None for m in minutes)
    assert hour.open == minutes[0].open and hour.close == minutes[-1].close  # type: ignore[union-attr]
    assert hour.high == max(m.high for m in minutes)  # type: ignore[union-attr]
    assert hour.volume == sum((m.volume for m in minutes), D(0))  # type: ignore[union-attr]


def test_forming_candle_is_cut_at_now(md: MarketData) -> None:
    """The newest kline only knows the path up to ``now``; its close is the current price."""
    now = REPLAY_START_HIST + 30 * MINUTE + 25_000
    rows = md.klines("BTCUSDT", "15", None, None, 3, now)
    assert [r.start for r in rows] == [
        now - now % (15 * MINUTE) - i * 15 * MINUTE for i in range(3)
    ]
    assert rows[0].close == md.price_at("BTCUSDT", now)
    full = md.candle(
        "BTCUSDT", rows[0].start, rows[0].start + 15 * MINUTE, rows[0].start + 15 * MINUTE
    )
    assert full is not None
    assert rows[0].volume < full.volume


def test_calendar_buckets() -> None:
    """W starts on Monday 00:00 UTC, M on the 1st."""
    t = 1748736000000  # 2025-06-01, a Sunday
    assert MarketData.bucket("W", t) == (1748217600000, 1748822400000)  # Mon 26 May .. Mon 2 Jun
    assert MarketData.bucket("M", t) == (1748736000000, 1748736000000 + 30 * 86_400_000)
    assert MarketData.bucket("D", t + 5) == (t, t + 86_400_000)


def test_synthetic_book_is_deterministic_and_sweeps() -> None:
    """Same minute, same book; a sweep fills best levels first and honours a limit."""
    inst = INSTRUMENTS["BTCUSDT"]
    bids, asks = orderbook.levels(inst, D("100000.0"), 60_000 * 5, depth=5)
    assert bids == orderbook.levels(inst, D("100000.0"), 60_000 * 5 + 59_999, depth=5)[0]
    assert bids[0][0] == D("100000.0") and asks[0][0] == D("100000.1")
    qty = asks[0][1] + asks[1][1] + D("0.001")
    fills = orderbook.sweep(inst, D("100000.0"), 60_000 * 5, "Buy", qty, None)
    assert [f[0] for f in fills] == [a[0] for a in asks[:3]]
    assert sum(f[1] for f in fills) == qty
    limited = orderbook.sweep(inst, D("100000.0"), 60_000 * 5, "Buy", qty, asks[1][0])
    assert sum(f[1] for f in limited) == asks[0][1] + asks[1][1]


def test_ladder_returns_crossed_levels_in_price_order() -> None:
    """A rising leg meets asks lowest first; a falling leg meets bids highest first."""
    ladder = PriceLadder()

    def order(oid: str, price: str) -> Order:
        return Order(
            oid,
            "",
            1,
            "BTCUSDT",
            "Sell",
            "Limit",
            D(price),
            D("0.001"),
            "GTC",
            False,
            False,
            "New",
            0,
            0,
            D(0),
        )

    for oid, price in [("a", "101"), ("b", "99"), ("c", "100"), ("d", "100"), ("e", "105")]:
        ladder.add(D(price), order(oid, price))
    assert [o.order_id for _, o in ladder.at_or_below(D("100.5"))] == ["b", "c", "d"]
    assert [o.order_id for _, o in ladder.at_or_above(D("100"))] == ["e", "a", "c", "d"]
    ladder.remove(D("100"), "c")
    ladder.remove(D("100"), "d")
    assert ladder.prices == [D("99"), D("101"), D("105")] and len(ladder) == 3
