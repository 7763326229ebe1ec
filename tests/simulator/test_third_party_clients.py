"""What a client nobody here wrote does at start and in trading, against the simulator, unchanged:
pybit (Bybit's own client) and ccxt with its default options. Each test is one of the answers
that stopped a popular open-source bot (issue 21's list)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest
from pybit.exceptions import InvalidRequestError

from tests.simulator.helpers import ccxt_bybit, signed

D = Decimal
MINUTE = 60_000
EIGHT_HOURS = 8 * 3_600_000


@pytest.fixture
def trader(simulator_session: Any) -> tuple[Any, Any, Any]:
    """(simulator, pybit HTTP, ccxt bybit) for a fresh account with 100,000 USDT."""
    _, key, secret = simulator_session.create_account(usdt="100000")
    return (
        simulator_session,
        simulator_session.http(key, secret),
        ccxt_bybit(simulator_session, key, secret),
    )


def test_ccxt_load_markets_with_keys(trader: tuple[Any, Any, Any]) -> None:
    """load_markets() with keys loads every category and the currencies (coin/query-info)."""
    _, _, exchange = trader

    markets = exchange.load_markets()

    assert markets["BTC/USDT:USDT"]["linear"] and markets["ETH/USDT:USDT"]["swap"]
    assert markets["BTC/USDT"]["spot"] and markets["BTC/USD:BTC"]["inverse"]
    assert markets["BTC/USDT:USDT"]["precision"]["price"] == 0.1
    assert {"USDT", "BTC", "ETH"} <= set(exchange.currencies)


def test_pybit_instruments_for_every_category_and_status(trader: tuple[Any, Any, Any]) -> None:
    """instruments-info answers spot, inverse and option, and honours ``status``."""
    _, http, _ = trader

    spot = http.get_instruments_info(category="spot")["result"]
    inverse = http.get_instruments_info(category="inverse")["result"]
    option = http.get_instruments_info(category="option", baseCoin="BTC")["result"]
    prelaunch = http.get_instruments_info(category="linear", status="PreLaunch")["result"]
    trading = http.get_instruments_info(category="linear", status="Trading")["result"]

    assert [i["symbol"] for i in spot["list"]] == ["BTCUSDT", "ETHUSDT"]
    assert spot["list"][0]["lotSizeFilter"]["basePrecision"] == "0.000001"
    assert [i["symbol"] for i in inverse["list"]] == ["BTCUSD", "ETHUSD"]
    assert inverse["list"][0]["settleCoin"] == "BTC"
    assert option == {"category": "option", "list": [], "nextPageCursor": ""}
    assert prelaunch["list"] == []
    assert [i["symbol"] for i in trading["list"]] == ["BTCUSDT", "ETHUSDT"]


def test_order_on_a_listed_spot_pair_is_refused(trader: tuple[Any, Any, Any]) -> None:
    """Listed is not traded: a spot order gets the simulator's linear-only refusal (10001)."""
    _, http, _ = trader

    with pytest.raises(InvalidRequestError) as refused:
        http.place_order(
            category="spot", symbol="BTCUSDT", side="Buy", orderType="Market", qty="10"
        )

    assert refused.value.status_code == 10001


def test_ccxt_set_position_mode_one_way(trader: tuple[Any, Any, Any]) -> None:
    """set_position_mode(False) (coin-level, mode 0, already in force) succeeds, as on Bybit;
    by symbol the same request answers 110025 "not modified"."""
    _, http, exchange = trader

    answer = exchange.set_position_mode(False)

    assert answer["retCode"] == "0" or answer["retCode"] == 0
    with pytest.raises(InvalidRequestError) as unchanged:
        http.switch_position_mode(category="linear", symbol="BTCUSDT", mode=0)
    assert unchanged.value.status_code == 110025


def test_ccxt_set_margin_mode_isolated(trader: tuple[Any, Any, Any]) -> None:
    """set_margin_mode('isolated') switches the account; a position opened then is isolated with
    its own margin (value / leverage) and liquidation price; back to cross works too."""
    _, http, exchange = trader

    answer = exchange.set_margin_mode("isolated", "BTC/USDT:USDT")
    info = http.get_account_info()["result"]
    http.set_leverage(category="linear", symbol="ETHUSDT", buyLeverage="20", sellLeverage="20")
    http.place_order(category="linear", symbol="ETHUSDT", side="Buy", orderType="Market", qty="1")
    pos = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]

    assert answer["result"] == {"reasons": []}
    assert info["marginMode"] == "ISOLATED_MARGIN"
    assert pos["tradeMode"] == 1
    entry = D(pos["avgPrice"])
    assert D(pos["positionIM"]) == D(pos["positionBalance"]) == entry / 20
    # margin + (liq - entry) x size = entry x size x 0.5 %  =>  liq = entry x (1 - 1/20 + 0.005)
    assert abs(D(pos["liqPrice"]) - entry * D("0.955")) <= D("0.01")
    with pytest.raises(ccxt.MarginModeAlreadySet):
        exchange.set_margin_mode("isolated", "BTC/USDT:USDT")


def test_margin_mode_refused_with_open_orders(simulator_session: Any) -> None:
    """Bybit refuses set-margin-mode while USDT perpetual orders are open (3400045, its reasons
    in ``result``: 3400054), and portfolio margin is not offered."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="1000")
    http = sim.http(key, secret)
    price = D(sim.admin("GET", "/sim/clock")["prices"]["BTCUSDT"])
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=str((price * D("0.8")).quantize(D("0.1"))),
    )

    isolated = signed(
        sim.base_url,
        key,
        secret,
        "POST",
        "/v5/account/set-margin-mode",
        {"setMarginMode": "ISOLATED_MARGIN"},
    ).json()
    portfolio = signed(
        sim.base_url,
        key,
        secret,
        "POST",
        "/v5/account/set-margin-mode",
        {"setMarginMode": "PORTFOLIO_MARGIN"},
    ).json()

    assert isolated["retCode"] == 3400045 and isolated["retMsg"] == "Set margin mode failed"
    assert isolated["result"]["reasons"] == [
        {"reasonCode": "3400054", "reasonMsg": "You have uncancelled USDT perpetual orders"}
    ]
    assert portfolio["retCode"] == 3400045
    assert http.get_account_info()["result"]["marginMode"] == "REGULAR_MARGIN"


def test_isolated_add_margin_and_auto_add(trader: tuple[Any, Any, Any]) -> None:
    """add-margin moves an isolated position's margin and liquidation price; a cross position
    answers 110015, auto-add-margin on it 110076."""
    _, http, _ = trader
    http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010"
    )
    with pytest.raises(InvalidRequestError) as cross:
        http.add_or_reduce_margin(category="linear", symbol="BTCUSDT", margin="10")
    with pytest.raises(InvalidRequestError) as no_auto:
        http.set_auto_add_margin(category="linear", symbol="BTCUSDT", autoAddMargin=1)
    http.set_margin_mode(setMarginMode="ISOLATED_MARGIN")
    http.place_order(category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="1")
    before = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]

    added = http.add_or_reduce_margin(category="linear", symbol="ETHUSDT", margin="50")["result"]
    http.set_auto_add_margin(category="linear", symbol="ETHUSDT", autoAddMargin=1)
    after = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]

    assert cross.value.status_code == 110015 and no_auto.value.status_code == 110076
    assert D(added["positionIM"]) == D(before["positionIM"]) + 50
    assert D(after["liqPrice"]) > D(before["liqPrice"])  # a short with more margin lasts longer
    assert after["autoAddMargin"] == 1


def test_ccxt_fetch_leverage_tiers(trader: tuple[Any, Any, Any]) -> None:
    """fetch_leverage_tiers() reads /v5/market/risk-limit: the simulator's one tier per contract."""
    _, http, exchange = trader

    tiers = exchange.fetch_leverage_tiers()
    raw = http.get_risk_limit(category="linear", symbol="ETHUSDT")["result"]["list"]

    assert tiers["BTC/USDT:USDT"][0]["maxLeverage"] == 100
    assert tiers["BTC/USDT:USDT"][0]["maintenanceMarginRate"] == 0.005
    assert raw[0]["riskLimitValue"] == "2000000" and raw[0]["isLowestRisk"] == 1


def test_ccxt_fetch_ohlcv_pages_forward_from_since(trader: tuple[Any, Any, Any]) -> None:
    """fetch_ohlcv(since=...) paged forward covers the range once, without the newest page
    coming back again (kline with ``start`` and ``limit`` but no ``end``)."""
    sim, http, exchange = trader
    now = sim.now()
    since = now - now % MINUTE - 1_500 * MINUTE  # the minute files start ~1,880 minutes back

    seen: list[int] = []
    cursor = since
    for _ in range(5):
        page = exchange.fetch_ohlcv("BTC/USDT:USDT", "1m", since=cursor, limit=1000)
        if not page:
            break
        seen += [row[0] for row in page]
        cursor = page[-1][0] + MINUTE
    first = http.get_kline(category="linear", symbol="BTCUSDT", interval="1", start=since, limit=3)
    both = http.get_kline(
        category="linear",
        symbol="BTCUSDT",
        interval="1",
        start=since,
        end=since + 9 * MINUTE,
        limit=3,
    )

    assert seen[0] == since
    assert seen == list(range(since, seen[-1] + 1, MINUTE))  # every minute, once, in order
    assert seen[-1] >= now - now % MINUTE - MINUTE
    assert [int(r[0]) for r in first["result"]["list"]] == [
        since + 2 * MINUTE,
        since + MINUTE,
        since,
    ]
    # start and end together: the newest candles of the range (end-anchored), newest first
    assert [int(r[0]) for r in both["result"]["list"]] == [
        since + 9 * MINUTE,
        since + 8 * MINUTE,
        since + 7 * MINUTE,
    ]


def test_kline_by_end_alone(trader: tuple[Any, Any, Any]) -> None:
    """``end`` alone lists the ``limit`` candles up to it, newest first."""
    sim, http, _ = trader
    now = sim.now()
    end = now - now % MINUTE - 100 * MINUTE

    rows = http.get_kline(category="linear", symbol="ETHUSDT", interval="5", end=end, limit=4)

    starts = [int(r[0]) for r in rows["result"]["list"]]
    assert starts[0] == end - end % (5 * MINUTE)
    assert starts == [starts[0] - i * 5 * MINUTE for i in range(4)]


def test_ccxt_fetch_funding_rate_history(trader: tuple[Any, Any, Any]) -> None:
    """fetch_funding_rate_history() lists the settled 8-hourly rates of the replay."""
    sim, http, exchange = trader
    now = sim.now()

    rates = exchange.fetch_funding_rate_history("BTC/USDT:USDT", since=now - 2 * 86_400_000)
    raw = http.get_funding_rate_history(category="linear", symbol="ETHUSDT", endTime=now, limit=2)
    with pytest.raises(InvalidRequestError):
        http.get_funding_rate_history(category="linear", symbol="ETHUSDT", startTime=now)

    assert rates and all(r["timestamp"] % EIGHT_HOURS == 0 for r in rates)
    assert {r["fundingRate"] for r in rates} == {0.0001}
    stamps = [int(r["fundingRateTimestamp"]) for r in raw["result"]["list"]]
    assert stamps == sorted(stamps, reverse=True) and stamps[0] <= now
