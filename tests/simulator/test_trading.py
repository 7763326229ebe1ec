"""Order behaviour on the replayed market, driven through pybit on the stepped clock."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

D = Decimal
MINUTE_FILES_START = 1748623140000  # 2025-05-30 16:39 UTC, the first candle of the 1m files
FUNDING_INTERVAL = 8 * 3_600_000  # Bybit settles BTCUSDT and ETHUSDT funding every 8 hours


@pytest.fixture
def market(simulator: Any) -> Any:
    """A fresh simulator and a funded pybit session; ``price()`` reads the BTC last price."""
    _, key, secret = simulator.create_account(usdt="100000")
    http = simulator.http(key, secret)

    class Market:
        sim = simulator

        def price(self, symbol: str = "BTCUSDT") -> Decimal:
            t = http.get_tickers(category="linear", symbol=symbol)["result"]["list"][0]
            return D(t["lastPrice"])

    m = Market()
    m.http = http  # type: ignore[attr-defined]
    return m


def _status(http: Any, order_id: str) -> dict[str, Any]:
    rows = http.get_order_history(category="linear", orderId=order_id)["result"]["list"]
    assert len(rows) == 1
    row: dict[str, Any] = rows[0]
    return row


def test_market_order_walks_the_synthetic_book(market: Any) -> None:
    """A small market buy fills at ask1 (last + one tick); a large one averages over deeper levels."""
    http = market.http
    last = market.price()
    book = http.get_orderbook(category="linear", symbol="BTCUSDT", limit=50)["result"]
    assert D(book["b"][0][0]) == last and D(book["a"][0][0]) == last + D("0.1")
    oid = http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.001"
    )["result"]["orderId"]
    small = _status(http, oid)
    assert small["orderStatus"] == "Filled" and D(small["avgPrice"]) == last + D("0.1")
    assert small["timeInForce"] == "IOC"
    big_qty = sum(D(q) for _, q in book["a"][:3]) + D("0.001")
    oid = http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty=str(big_qty)
    )["result"]["orderId"]
    big = _status(http, oid)
    assert big["orderStatus"] == "Filled" and D(big["cumExecQty"]) == big_qty
    fills = http.get_executions(category="linear", orderId=oid, limit=100)["result"]["list"]
    assert len(fills) == 4
    assert sorted(D(f["execPrice"]) for f in fills) == [last + D("0.1") * i for i in (1, 2, 3, 4)]
    assert {f["isMaker"] for f in fills} == {False} and {f["feeRate"] for f in fills} == {"0.00055"}


def test_time_in_force_rules(market: Any) -> None:
    """PostOnly that would cross is cancelled (EC_PostOnlyWillTakeLiquidity); IOC/FOK never rest."""
    http = market.http
    last = market.price()
    post = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=str(last + 50),
        timeInForce="PostOnly",
    )
    row = _status(http, post["result"]["orderId"])
    assert row["orderStatus"] == "Cancelled"
    assert row["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
    ioc = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=str(last - 50),
        timeInForce="IOC",
    )
    assert _status(http, ioc["result"]["orderId"])["orderStatus"] == "Cancelled"
    fok = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Limit",
        qty="5",
        price=str(last),
        timeInForce="FOK",
    )
    row = _status(http, fok["result"]["orderId"])
    assert row["orderStatus"] == "Cancelled" and row["cumExecQty"] == "0.000"
    crossing = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Limit",
        qty="0.002",
        price=str(last - 1),
        timeInForce="GTC",
    )
    row = _status(http, crossing["result"]["orderId"])
    assert row["orderStatus"] == "Filled" and D(row["avgPrice"]) == last


def test_resting_limit_fills_when_price_crosses(market: Any) -> None:
    """A bid below the market fills as maker at its price once the replay trades down to it."""
    http, sim = market.http, market.sim
    last = market.price()
    price = last - D("40")
    oid = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.010",
        price=str(price),
        orderLinkId="dip-1",
    )["result"]["orderId"]
    assert _status(http, oid)["orderStatus"] == "New"
    for _ in range(240):
        sim.advance(minutes=1)
        if _status(http, oid)["orderStatus"] == "Filled":
            break
    row = _status(http, oid)
    assert row["orderStatus"] == "Filled" and D(row["avgPrice"]) == price
    fill = http.get_executions(category="linear", orderId=oid)["result"]["list"][0]
    assert fill["isMaker"] is True and D(fill["execFee"]) == price * D("0.010") * D("0.0002")
    kl = http.get_kline(
        category="linear", symbol="BTCUSDT", interval="1", end=int(fill["execTime"]), limit=1
    )["result"]["list"][0]
    assert D(kl[3]) <= price  # the minute it filled in traded at or below the bid


def test_take_profit_and_stop_loss(market: Any) -> None:
    """Order TP/SL become the position's; the replay hitting one closes the position with a
    market order and deactivates the other."""
    http, sim = market.http, market.sim
    last = market.price()
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Market",
        qty="0.010",
        takeProfit=str(last + 30),
        stopLoss=str(last - 30),
    )
    pos = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert D(pos["takeProfit"]) == last + 30 and D(pos["stopLoss"]) == last - 30
    stops = http.get_open_orders(category="linear", symbol="BTCUSDT", orderFilter="StopOrder")
    kinds = sorted(o["stopOrderType"] for o in stops["result"]["list"])
    assert kinds == ["StopLoss", "TakeProfit"]
    http.set_trading_stop(
        category="linear", symbol="BTCUSDT", takeProfit=str(last + 20), positionIdx=0
    )
    for _ in range(600):
        sim.advance(minutes=1)
        pos = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
        if pos["size"] == "0":
            break
    assert pos["size"] == "0" and pos["takeProfit"] == "0" and pos["stopLoss"] == "0"
    history = http.get_order_history(category="linear", symbol="BTCUSDT")["result"]["list"]
    by_kind = {o["stopOrderType"]: o for o in history if o["stopOrderType"]}
    fired = [o for o in by_kind.values() if o["orderStatus"] == "Filled"]
    assert len(fired) == 1 and fired[0]["reduceOnly"] is True
    other = next(o for o in by_kind.values() if o is not fired[0])
    assert other["orderStatus"] == "Deactivated"
    closed = http.get_closed_pnl(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert closed and closed[0]["orderId"] == fired[0]["orderId"]


def test_conditional_order_triggers(market: Any) -> None:
    """A stop-market buy above the price stays Untriggered until the replay rises through it."""
    http, sim = market.http, market.sim
    last = market.price()
    oid = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Market",
        qty="0.001",
        triggerPrice=str(last + 25),
        triggerDirection=1,
    )
    oid = oid["result"]["orderId"]
    assert _status(http, oid)["orderStatus"] == "Untriggered"
    for _ in range(600):
        sim.advance(minutes=1)
        if _status(http, oid)["orderStatus"] == "Filled":
            break
    row = _status(http, oid)
    assert row["orderStatus"] == "Filled" and row["stopOrderType"] == "Stop"
    assert D(row["avgPrice"]) >= last + 25


def test_reduce_only_amend_cancel_all(market: Any) -> None:
    """Reduce-only is capped at the position; amend moves price; cancel-all clears the book."""
    http = market.http
    last = market.price()
    http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.004"
    )
    ro = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Limit",
        qty="0.010",
        price=str(last + 500),
        reduceOnly=True,
    )
    assert _status(http, ro["result"]["orderId"])["qty"] == "0.004"
    bid = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=str(last - 500),
        orderLinkId="amend-me",
    )
    http.amend_order(
        category="linear",
        symbol="BTCUSDT",
        orderLinkId="amend-me",
        price=str(last - 400),
        qty="0.002",
    )
    row = _status(http, bid["result"]["orderId"])
    assert D(row["price"]) == last - 400 and row["qty"] == "0.002"
    done = http.cancel_all_orders(category="linear", settleCoin="USDT")["result"]
    assert done["success"] == "1" and len(done["list"]) == 2
    assert (
        http.get_open_orders(category="linear", settleCoin="USDT", orderFilter="Order")["result"][
            "list"
        ]
        == []
    )
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Market",
        qty="0.004",
        reduceOnly=True,
    )
    pos = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert pos["size"] == "0"


def test_cursor_pagination_and_history_retention(market: Any) -> None:
    """nextPageCursor walks every record once; cancelled unfilled orders leave history after 24 h,
    while realtime-by-id still finds them among the latest 500 closed."""
    http, sim = market.http, market.sim
    last = market.price()
    ids = []
    for i in range(5):
        r = http.place_order(
            category="linear",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.001",
            price=str(last - 1000 - i),
            orderLinkId=f"page-{i}",
        )
        ids.append(r["result"]["orderId"])
    seen, cursor, pages = [], "", 0
    while True:
        res = http.get_open_orders(category="linear", symbol="BTCUSDT", limit=2, cursor=cursor)
        seen += [o["orderId"] for o in res["result"]["list"]]
        pages += 1
        cursor = res["result"]["nextPageCursor"]
        if not cursor:
            break
    assert pages == 3 and seen == list(reversed(ids))
    http.cancel_all_orders(category="linear", symbol="BTCUSDT")
    assert len(http.get_order_history(category="linear", limit=50)["result"]["list"]) == 5
    sim.advance(minutes=24 * 60 + 1)
    assert http.get_order_history(category="linear", limit=50)["result"]["list"] == []
    found = http.get_open_orders(category="linear", orderLinkId="page-3")["result"]["list"]
    assert found[0]["orderStatus"] == "Cancelled"


def test_leverage_sets_initial_margin(market: Any) -> None:
    """positionIM = value / leverage; liqPrice is where equity would meet maintenance margin."""
    http = market.http
    http.set_leverage(category="linear", symbol="ETHUSDT", buyLeverage="20", sellLeverage="20")
    http.place_order(
        category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="1.00"
    )
    pos = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    entry = D(pos["avgPrice"])
    assert pos["side"] == "Sell" and pos["leverage"] == "20"
    assert D(pos["positionIM"]) == entry / 20
    wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    # Short 1 ETH: equity(p) = wallet + (entry - p) x 1 meets MM at p = entry + wallet - MM.
    room = D(wallet["totalWalletBalance"]) - D(pos["positionMM"])
    assert D(pos["liqPrice"]) == (entry + room).quantize(D("0.01"))
    fee = http.get_fee_rates(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert fee == {"symbol": "ETHUSDT", "takerFeeRate": "0.00055", "makerFeeRate": "0.0002"}


def test_liquidation_at_the_liquidation_price(simulator: Any) -> None:
    """A 100x short on 15 USDT is liquidated when the replay reaches its liqPrice (the high of the
    day from the replay start is 108400.0): orders cancelled, the position closed as BustTrade,
    logged as LIQUIDATION."""
    _, key, secret = simulator.create_account(usdt="15")
    http = simulator.http(key, secret)
    http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="100", sellLeverage="100")
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Sell",
        orderType="Market",
        qty="0.010",
        stopLoss="110000.0",
    )
    http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price="90000.0",
        orderLinkId="bystander",
    )
    opened = simulator.now()
    pos = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    liq = D(pos["liqPrice"])
    entry = D(pos["avgPrice"])
    assert entry < liq < D("108400.0")
    simulator.advance(minutes=1440)
    pos = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert pos["size"] == "0" and pos["liqPrice"] == ""
    bust = [
        x
        for x in http.get_executions(category="linear")["result"]["list"]
        if x["execType"] == "BustTrade"
    ]
    assert len(bust) == 1 and bust[0]["side"] == "Buy"
    # The short received funding if a funding time (00, 08, 16 UTC) fell before the liquidation,
    # which depends on the hour the test runs at (the market reaches liqPrice about 7 hours in):
    # longs pay shorts at a positive rate, so its margin grew by that much and its liquidation
    # price rose by funding / size, to within a tick.
    log = http.get_transaction_log(accountType="UNIFIED", type="SETTLEMENT")["result"]["list"]
    received = sum((D(t["funding"]) for t in log), D(0))
    funding_time_passed = int(bust[0]["execTime"]) // FUNDING_INTERVAL > opened // FUNDING_INTERVAL
    assert (received > 0) == funding_time_passed and received >= 0
    assert abs(D(bust[0]["execPrice"]) - (liq + received / D("0.010"))) <= D("0.1")
    history = {
        o["orderLinkId"] or o["stopOrderType"] or o["orderId"]: o
        for o in http.get_order_history(category="linear", limit=50)["result"]["list"]
    }
    assert history["bystander"]["cancelType"] == "CancelAllBeforeLiq"
    assert history["StopLoss"]["orderStatus"] == "Deactivated"
    closed = http.get_closed_pnl(category="linear")["result"]["list"][0]
    assert closed["execType"] == "BustTrade"
    log = http.get_transaction_log(accountType="UNIFIED")["result"]["list"]
    assert log[0]["type"] == "LIQUIDATION"
    wallet = D(
        http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["totalWalletBalance"]
    )
    assert D(0) < wallet < D("15") + received - (liq - entry) * D("0.010") + D("0.0000001")


def test_market_data_endpoints(market: Any) -> None:
    """Klines newest first (default 200, at most 1000), aggregated intervals agree with 1m,
    instruments carry Bybit's filters, server time is wall time."""
    http, sim = market.http, market.sim
    sim.advance(minutes=17)
    rows = http.get_kline(category="linear", symbol="BTCUSDT", interval="1")["result"]["list"]
    assert len(rows) == 200
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    assert (
        len(
            http.get_kline(category="linear", symbol="BTCUSDT", interval="1", limit=1000)["result"][
                "list"
            ]
        )
        == 1000
    )
    five = http.get_kline(category="linear", symbol="BTCUSDT", interval="5", limit=3)
    closed5 = five["result"]["list"][1]
    ones = http.get_kline(
        category="linear",
        symbol="BTCUSDT",
        interval="1",
        start=int(closed5[0]),
        end=int(closed5[0]) + 4 * 60_000,
    )["result"]["list"]
    assert len(ones) == 5
    assert closed5[1] == ones[-1][1] and closed5[4] == ones[0][4]
    assert D(closed5[2]) == max(D(r[2]) for r in ones) and D(closed5[3]) == min(
        D(r[3]) for r in ones
    )
    assert D(closed5[5]) == sum(D(r[5]) for r in ones)
    for interval in ("3", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M"):
        got = http.get_kline(category="linear", symbol="ETHUSDT", interval=interval, limit=5)
        assert got["result"]["list"], interval
    first_minute = MINUTE_FILES_START + sim.admin("GET", "/sim/clock")["offset"]
    hourly = http.get_kline(category="linear", symbol="BTCUSDT", interval="60", limit=1000)
    starts = [int(r[0]) for r in hourly["result"]["list"]]
    assert all(a - b == 3_600_000 for a, b in pairwise(starts))  # no hole
    assert min(starts) >= first_minute  # hourly history starts with the minute files
    daily = http.get_kline(category="linear", symbol="BTCUSDT", interval="D", limit=1000)
    days = [int(r[0]) for r in daily["result"]["list"]]
    assert all(a - b == 86_400_000 for a, b in pairwise(days))
    first_hour = -(-first_minute // 3_600_000) * 3_600_000  # where hourly and longer series start
    assert days[-1] <= first_hour < days[-1] + 86_400_000  # the oldest day holds that hour
    info = http.get_instruments_info(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert info["priceFilter"]["tickSize"] == "0.01" and info["lotSizeFilter"]["qtyStep"] == "0.01"
    info = http.get_instruments_info(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert info["priceFilter"]["tickSize"] == "0.10"
    assert info["lotSizeFilter"]["minOrderQty"] == "0.001"
    assert info["leverageFilter"]["maxLeverage"] == "100.00"
    trades = http.get_public_trade_history(category="linear", symbol="BTCUSDT", limit=5)
    assert len(trades["result"]["list"]) == 5
    mark = http.get_mark_price_kline(category="linear", symbol="BTCUSDT", interval="1", limit=2)
    assert len(mark["result"]["list"][0]) == 5
