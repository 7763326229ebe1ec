"""pybit's WebSocket clients, unchanged (only pointed at the simulator), on every topic."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from tests.fixtures.simulator import wait_for
from tests.simulator.helpers import Inbox


def test_public_streams(simulator: Any) -> None:
    """kline pushes the forming candle (confirm false) and each closed one (confirm true);
    tickers, orderbook and publicTrade arrive and pybit keeps its merged copies."""
    ws = simulator.websocket("linear")
    inbox = Inbox()
    try:
        ws.kline_stream(interval=1, symbol="BTCUSDT", callback=inbox)
        ws.ticker_stream(symbol="BTCUSDT", callback=inbox)
        ws.orderbook_stream(depth=50, symbol="BTCUSDT", callback=inbox)
        ws.trade_stream(symbol="ETHUSDT", callback=inbox)
        first = wait_for(lambda: inbox.topic("kline.1.BTCUSDT"))[0]["data"][0]
        assert first["confirm"] is False
        wait_for(lambda: inbox.topic("tickers.BTCUSDT") and inbox.topic("orderbook.50.BTCUSDT"))
        time.sleep(0.2)  # the publicTrade subscription has no first push to wait for
        simulator.advance(ms=30_000)
        wait_for(lambda: inbox.topic("publicTrade.ETHUSDT"))
        simulator.advance(ms=90_000)
        klines = wait_for(
            lambda: [
                m["data"][0] for m in inbox.topic("kline.1.BTCUSDT") if m["data"][0]["confirm"]
            ]
        )
        assert klines[0]["start"] == first["start"]
        assert klines[0]["end"] == first["start"] + 59_999
        forming = wait_for(
            lambda: [
                m["data"][0]
                for m in inbox.topic("kline.1.BTCUSDT")
                if not m["data"][0]["confirm"] and m["data"][0]["start"] == first["start"] + 120_000
            ]
        )[0]
        assert [k["start"] for k in klines] == [first["start"], first["start"] + 60_000]
        assert forming["timestamp"] == first["start"] + 120_000
        ticker = inbox.topic("tickers.BTCUSDT")[-1]
        assert ticker["type"] == "snapshot"  # pybit hands merged deltas over as snapshots
        price = Decimal(simulator.admin("GET", "/sim/clock")["prices"]["BTCUSDT"])
        wait_for(lambda: Decimal(inbox.topic("tickers.BTCUSDT")[-1]["data"]["lastPrice"]) == price)
        book = inbox.topic("orderbook.50.BTCUSDT")[-1]["data"]
        assert len(book["b"]) == 50 and Decimal(book["b"][0][0]) < Decimal(book["a"][0][0])
        trade = inbox.topic("publicTrade.ETHUSDT")[-1]["data"][0]
        assert set(trade) >= {"T", "s", "S", "v", "p", "i", "BT"}
    finally:
        ws.exit()


def test_private_streams_and_reconnect(simulator: Any) -> None:
    """order, execution, position and wallet pushes reach pybit; after a forced disconnect pybit
    reconnects, re-authenticates, resubscribes and keeps receiving."""
    uid, key, secret = simulator.create_account(usdt="10000")
    http = simulator.http(key, secret)
    ws = simulator.websocket("private", key, secret)
    inbox = Inbox()
    try:
        ws.order_stream(callback=inbox)
        ws.execution_stream(callback=inbox)
        ws.position_stream(callback=inbox)
        ws.wallet_stream(callback=inbox)
        time.sleep(0.3)
        http.place_order(
            category="linear",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Market",
            qty="0.002",
            orderLinkId="ws-1",
        )
        wait_for(lambda: inbox.topic("wallet"))
        order = inbox.topic("order")[-1]["data"][0]
        assert order["orderLinkId"] == "ws-1" and order["orderStatus"] == "Filled"
        execution = inbox.topic("execution")[-1]["data"][0]
        assert execution["execQty"] == "0.002" and execution["isMaker"] is False
        position = inbox.topic("position")[-1]["data"][0]
        assert position["size"] == "0.002" and position["side"] == "Buy"
        wallet = inbox.topic("wallet")[-1]["data"][0]
        assert Decimal(wallet["totalWalletBalance"]) < Decimal("10000")
        topics = [m["topic"] for m in inbox.items]
        assert topics[-4:] == ["order", "execution", "position", "wallet"]

        closed = simulator.admin("POST", "/sim/ws/disconnect", {"kind": "private", "uid": uid})
        assert closed["closed"] == 1
        time.sleep(0.5)
        before = len(inbox.items)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(inbox.topic("order")) < 2:
            if len(inbox.items) == before:
                http.place_order(
                    category="linear",
                    symbol="BTCUSDT",
                    side="Sell",
                    orderType="Limit",
                    qty="0.001",
                    price="150000.0",
                )
            time.sleep(0.5)
        assert len(inbox.topic("order")) >= 2, "no push after reconnect"
    finally:
        ws.exit()


def test_order_entry_socket(simulator: Any) -> None:
    """pybit's WebSocketTrading places, amends and cancels; errors go to its error callback."""
    _, key, secret = simulator.create_account(usdt="10000")
    trading = simulator.websocket_trading(key, secret)
    ok, bad = Inbox(), Inbox()
    try:
        trading.place_order(
            ok,
            bad,
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.10",
            price="1500.00",
            orderLinkId="wt-1",
        )
        reply = wait_for(lambda: ok.items)[0]
        assert reply["retCode"] == 0 and reply["op"] == "order.create"
        assert reply["data"]["orderLinkId"] == "wt-1"
        assert set(reply["header"]) >= {"X-Bapi-Limit", "X-Bapi-Limit-Status", "Timenow"}
        trading.amend_order(
            ok, bad, category="linear", symbol="ETHUSDT", orderLinkId="wt-1", price="1510.00"
        )
        wait_for(lambda: len(ok.items) == 2)
        trading.place_order(
            ok,
            bad,
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.10",
            price="1500.00",
            orderLinkId="wt-1",
        )
        err = wait_for(lambda: bad.items)[0]
        assert err["retCode"] == 110072
        trading.cancel_order(ok, bad, category="linear", symbol="ETHUSDT", orderLinkId="wt-1")
        wait_for(lambda: len(ok.items) == 3)
        http = simulator.http(key, secret)
        row = http.get_order_history(category="linear", orderLinkId="wt-1")["result"]["list"][0]
        assert row["orderStatus"] == "Cancelled" and row["price"] == "1510.00"
    finally:
        trading.exit()


def test_disconnect_mid_fill_loses_the_push_not_the_fill(simulator: Any) -> None:
    """ws_drop_push closes the private socket instead of sending the execution push; the fill is
    on the exchange (REST), pybit reconnects and later pushes arrive again."""
    uid, key, secret = simulator.create_account(usdt="10000")
    http = simulator.http(key, secret)
    ws = simulator.websocket("private", key, secret)
    inbox = Inbox()
    try:
        ws.execution_stream(callback=inbox)
        ws.order_stream(callback=inbox)
        time.sleep(0.3)
        simulator.fault("ws_drop_push", uid=uid, path="execution", count=1)
        http.place_order(
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Market",
            qty="0.10",
            orderLinkId="mid-fill",
        )
        fills = http.get_executions(category="linear", orderLinkId="mid-fill")["result"]["list"]
        assert len(fills) == 1
        time.sleep(1.0)
        assert inbox.topic("execution") == []
        assert simulator.admin("GET", "/sim/faults")["faults"] == []  # the rule fired once
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not inbox.topic("execution"):
            http.place_order(
                category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="0.01"
            )
            time.sleep(0.5)
        assert inbox.topic("execution"), "no execution push after pybit reconnected"
        assert all(m["data"][0]["orderLinkId"] != "mid-fill" for m in inbox.topic("execution"))
    finally:
        ws.exit()
