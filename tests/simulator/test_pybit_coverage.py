"""The rest of pybit's surface the service may touch: batch calls, account info, margin mode,
index klines, partial fills, order-entry batches and the keep-alive ping, plus the order-entry
socket's own error codes."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from pybit.exceptions import InvalidRequestError

from tests.fixtures.simulator import wait_for
from tests.simulator.helpers import Inbox, RawSocket, sign, signed

D = Decimal


@pytest.fixture
def trader(simulator_session: Any) -> tuple[Any, Any]:
    _, key, secret = simulator_session.create_account(usdt="200000")
    return simulator_session, simulator_session.http(key, secret)


def test_batch_endpoints(trader: tuple[Any, Any]) -> None:
    """create/amend/cancel-batch: per-item results with per-item codes in retExtInfo."""
    _, http = trader
    made = http.place_batch_order(
        category="linear",
        request=[
            {
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.10",
                "price": "1500.00",
                "orderLinkId": "b-1",
            },
            {
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.10",
                "price": "1500.005",
                "orderLinkId": "b-2",
            },
        ],
    )
    assert [c["code"] for c in made["retExtInfo"]["list"]] == [0, 10001]
    assert (
        made["result"]["list"][0]["orderLinkId"] == "b-1" and made["result"]["list"][0]["createAt"]
    )
    assert made["result"]["list"][1]["orderId"] == ""
    amended = http.amend_batch_order(
        category="linear",
        request=[
            {"symbol": "ETHUSDT", "orderLinkId": "b-1", "price": "1400.00"},
        ],
    )
    assert amended["retExtInfo"]["list"] == [{"code": 0, "msg": "OK"}]
    cancelled = http.cancel_batch_order(
        category="linear",
        request=[
            {"symbol": "ETHUSDT", "orderLinkId": "b-1"},
            {"symbol": "ETHUSDT", "orderLinkId": "b-2"},
        ],
    )
    assert [c["code"] for c in cancelled["retExtInfo"]["list"]] == [0, 110001]


def test_account_info_margin_mode_index_kline(trader: tuple[Any, Any]) -> None:
    """account/info, set-margin-mode refusals (110026, 3400045) and index-price klines."""
    _, http = trader
    info = http.get_account_info()["result"]
    assert info["marginMode"] == "REGULAR_MARGIN" and info["unifiedMarginStatus"] == 6
    with pytest.raises(InvalidRequestError) as exc:
        http.set_margin_mode(setMarginMode="REGULAR_MARGIN")
    assert exc.value.status_code == 110026
    with pytest.raises(InvalidRequestError) as exc:
        http.set_margin_mode(setMarginMode="PORTFOLIO_MARGIN")
    assert exc.value.status_code == 3400045
    rows = http.get_index_price_kline(category="linear", symbol="BTCUSDT", interval="60", limit=3)
    assert len(rows["result"]["list"]) == 3 and len(rows["result"]["list"][0]) == 5


def test_partial_fill_then_rest_and_amend_below_filled(trader: tuple[Any, Any]) -> None:
    """A GTC bid at ask1 bigger than ask1's size takes ask1, rests the rest as PartiallyFilled;
    amending its qty to no more than the filled part is 110064."""
    _sim, http = trader
    book = http.get_orderbook(category="linear", symbol="BTCUSDT", limit=1)["result"]
    ask_px, ask_size = D(book["a"][0][0]), D(book["a"][0][1])
    qty = ask_size + D("0.5")
    oid = http.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty=str(qty),
        price=str(ask_px),
    )["result"]["orderId"]
    row = http.get_open_orders(category="linear", orderId=oid)["result"]["list"][0]
    assert row["orderStatus"] == "PartiallyFilled"
    assert D(row["cumExecQty"]) == ask_size and D(row["leavesQty"]) == D("0.5")
    with pytest.raises(InvalidRequestError) as exc:
        http.amend_order(category="linear", symbol="BTCUSDT", orderId=oid, qty=str(ask_size))
    assert exc.value.status_code == 110064
    http.cancel_order(category="linear", symbol="BTCUSDT", orderId=oid)
    row = http.get_order_history(category="linear", orderId=oid)["result"]["list"][0]
    assert row["orderStatus"] == "Cancelled" and D(row["cumExecQty"]) == ask_size


def test_realtime_finds_only_the_latest_500_closed(simulator: Any) -> None:
    """Open-order lookups by id reach the account's 500 most recent closed orders, no further."""
    simulator.admin("POST", "/sim/ratelimits", {"uid_scale": 1000, "ip_limit": 100_000})
    _, key, secret = simulator.create_account(usdt="100000")
    for i in range(25):
        body = {
            "category": "linear",
            "request": [
                {
                    "symbol": "ETHUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.10",
                    "price": "1000.00",
                    "orderLinkId": f"old-{i}-{j}",
                }
                for j in range(20)
            ]
            + [],
        }
        assert (
            signed(simulator.base_url, key, secret, "POST", "/v5/order/create-batch", body).json()[
                "retCode"
            ]
            == 0
        )
        assert (
            signed(
                simulator.base_url,
                key,
                secret,
                "POST",
                "/v5/order/cancel-all",
                {"category": "linear", "symbol": "ETHUSDT"},
            ).json()["retCode"]
            == 0
        )
    http = simulator.http(key, secret)
    assert http.get_open_orders(category="linear", orderLinkId="old-0-0")["result"]["list"]
    http.place_order(
        category="linear",
        symbol="ETHUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.10",
        price="1000.00",
        orderLinkId="newest",
    )
    http.cancel_order(category="linear", symbol="ETHUSDT", orderLinkId="newest")
    assert http.get_open_orders(category="linear", orderLinkId="old-0-0")["result"]["list"] == []
    assert http.get_open_orders(category="linear", orderLinkId="old-0-1")["result"]["list"]
    assert http.get_order_history(category="linear", orderLinkId="old-0-0")["result"]["list"]


def test_order_entry_batch_and_keepalive(simulator: Any) -> None:
    """pybit's WebSocketTrading batch call; pybit's pings keep public and private sockets up."""
    _, key, secret = simulator.create_account(usdt="100000")
    trading = simulator.websocket_trading(key, secret)
    public = simulator.websocket("linear", ping_interval=1, ping_timeout=0.5)
    inbox, ok, bad = Inbox(), Inbox(), Inbox()
    try:
        public.ticker_stream(symbol="ETHUSDT", callback=inbox)
        trading.place_batch_order(
            ok,
            bad,
            category="linear",
            request=[
                {
                    "symbol": "ETHUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.10",
                    "price": "1500.00",
                },
                {
                    "symbol": "ETHUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.10",
                    "price": "-1",
                },
            ],
        )
        reply = wait_for(lambda: ok.items)[0]
        assert reply["op"] == "order.create-batch"
        assert [c["code"] for c in reply["retExtInfo"]["list"]] == [0, 110003]
        time.sleep(2.5)  # several ping/pong rounds at ping_interval=1
        assert public.is_connected() and trading.is_connected()
        simulator.advance(minutes=1)
        wait_for(lambda: len(inbox.topic("tickers.ETHUSDT")) >= 2)
    finally:
        trading.exit()
        public.exit()


def test_order_entry_socket_error_codes(simulator_session: Any) -> None:
    """Unauthenticated 10003, repeat auth 20001, duplicate reqId 20006, stale timestamp 10002."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="1000")
    sock = RawSocket(sim.ws_url("/v5/trade"))
    try:
        order = {
            "category": "linear",
            "symbol": "ETHUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.10",
            "price": "1500.00",
        }
        now = int(time.time() * 1000)
        sock.send(
            {
                "reqId": "r0",
                "op": "order.create",
                "header": {"X-BAPI-TIMESTAMP": now},
                "args": [order],
            }
        )
        assert sock.recv()["retCode"] == 10003
        expires = now + 5000
        auth = {"op": "auth", "args": [key, expires, sign(secret, f"GET/realtime{expires}")]}
        sock.send(auth)
        assert sock.recv()["retCode"] == 0
        sock.send(auth)
        assert sock.recv()["retCode"] == 20001
        sock.send(
            {
                "reqId": "r1",
                "op": "order.create",
                "header": {"X-BAPI-TIMESTAMP": now},
                "args": [order],
            }
        )
        assert sock.recv()["retCode"] == 0
        sock.send(
            {
                "reqId": "r1",
                "op": "order.create",
                "header": {"X-BAPI-TIMESTAMP": now},
                "args": [order],
            }
        )
        assert sock.recv()["retCode"] == 20006
        sock.send(
            {
                "reqId": "r2",
                "op": "order.create",
                "header": {"X-BAPI-TIMESTAMP": now - 60_000},
                "args": [order],
            }
        )
        reply = sock.recv()
        assert reply["retCode"] == 10002 and reply["reqId"] == "r2"
    finally:
        sock.close()
