"""Shape tests: for every example in bybit_examples/, the simulator answers the same request with the
same keys at every level and the same JSON types (strings stay strings, numbers numbers).

Requests are the examples' own, moved onto what the simulator lists where the docs used another
category or symbol (inverse BTCUSD -> linear BTCUSDT, ETHPERP -> ETHUSDT, spot -> linear); where the
docs only show another category, the linear field table of the same page decides (see
``table_keys``). Fragments (error examples that quote only retCode/retMsg) are compared on the keys
they show.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from tests.simulator.helpers import RawSocket, example, shape_diff, sign, signed, table_keys

ENVELOPE = {"retCode": 0, "retMsg": "OK", "result": {}, "retExtInfo": {}, "time": 1}


@pytest.fixture(scope="module")
def world(simulator_session: Any) -> dict[str, Any]:
    """One funded account with a position, open orders, fills and closed P&L on both symbols."""
    sim = simulator_session
    uid, key, secret = sim.create_account(usdt="1000000")
    call = _caller(sim.base_url, key, secret)
    call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.02",
        },
    )
    call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Sell",
            "orderType": "Market",
            "qty": "0.01",
        },
    )
    call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "ETHUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.10",
            "price": "1600",
            "orderLinkId": "linear-004",
        },
    )
    sim.advance(minutes=2)
    return {"sim": sim, "uid": uid, "key": key, "secret": secret, "call": call}


def _caller(base: str, key: str, secret: str) -> Any:
    def call(method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = signed(base, key, secret, method, path, params)
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()
        return data

    return call


def _price(world: dict[str, Any], symbol: str = "BTCUSDT") -> Decimal:
    return Decimal(world["sim"].admin("GET", "/sim/clock")["prices"][symbol])


def _linear_query(query: dict[str, str]) -> dict[str, str]:
    out = dict(query)
    if "category" in out:
        out["category"] = "linear"
    if out.get("symbol") in ("BTCUSD", "BTCPERP", "XRPUSDT"):
        out["symbol"] = "BTCUSDT"
    if out.get("symbol") == "ETHPERP":
        out["symbol"] = "ETHUSDT"
    return out


REST_GET = [
    "rest_account_fee_rate.json",
    "rest_market_instruments_info.json",
    "rest_market_orderbook.json",
    "rest_market_recent_trade.json",
    "rest_market_tickers.json",
    "rest_market_time.json",
    "rest_user_query_api.json",
    "rest_order_realtime.json",
    "rest_order_history.json",
    "rest_execution_list.json",
    "rest_position_closed_pnl.json",
    "rest_position_list.json",
]


@pytest.mark.parametrize("name", REST_GET)
def test_rest_get_matches_example(world: dict[str, Any], name: str) -> None:
    """The same GET answers with the example's keys and JSON types."""
    doc = example(name)
    query = _linear_query(doc["request"]["query"])
    path = doc["path"]
    if path.startswith("/v5/market"):
        resp = _public(world, path, query)
    else:
        resp = world["call"]("GET", path, query)
    assert resp["retCode"] == 0, resp
    # Keys the docs' field table lists but its example omits (execution/list: createType,
    # execFeeV2) are Bybit's too, and so is marketUnit (in real execution/list replies); anything
    # else unexpected, missing or of another type is not.
    table = {f"$.result.list[0].{k}: unexpected" for k in table_keys(doc) | {"marketUnit"}}
    assert not (d := [x for x in shape_diff(doc["response"], resp) if x not in table]), d


def _public(world: dict[str, Any], path: str, query: dict[str, str]) -> dict[str, Any]:
    import requests

    resp = requests.get(f"{world['sim'].base_url}{path}", params=query, timeout=10)
    data: dict[str, Any] = resp.json()
    return data


@pytest.mark.parametrize("name", ["rest_market_kline.json", "rest_market_mark_price_kline.json"])
def test_kline_matches_example(world: dict[str, Any], name: str) -> None:
    """Klines keep their string arrays (7 fields, 5 for mark price) for the documented request."""
    doc = example(name)
    now = world["sim"].now()
    query = _linear_query(doc["request"]["query"])
    query.update(start=str(now - 3 * 3_600_000), end=str(now))
    resp = _public(world, doc["path"], query)
    assert resp["retCode"] == 0, resp
    assert resp["result"]["list"], resp
    assert len(resp["result"]["list"][0]) == len(doc["response"]["result"]["list"][0])
    assert not (d := shape_diff(doc["response"], resp)), d


def test_account_info_and_wallet_match_examples(world: dict[str, Any]) -> None:
    """account/info (docs omit the envelope tail) and wallet-balance (USDT, our settle coin)."""
    info = example("rest_account_info.json")
    resp = world["call"]("GET", "/v5/account/info")
    assert not (d := shape_diff({**ENVELOPE, **info["response"]}, resp)), d
    wallet = example("rest_account_wallet_balance.json")
    resp = world["call"]("GET", wallet["path"], {"accountType": "UNIFIED", "coin": "USDT"})
    assert resp["result"]["list"][0]["coin"], resp
    assert not (d := shape_diff(wallet["response"], resp)), d


def test_order_create_amend_cancel_match_examples(world: dict[str, Any]) -> None:
    """The documented create body (TP/SL, Partial mode), amend by orderLinkId, cancel by orderId."""
    call = world["call"]
    create = example("rest_order_create.json")
    resp = call("POST", create["path"], create["request"]["body"])
    assert resp["retCode"] == 0, resp
    assert not (d := shape_diff(create["response"], resp)), d
    amend = example("rest_order_amend.json")
    body = {**_linear_query(amend["request"]["body"]), "price": "1050", "qty": "0.15"}
    resp = call("POST", amend["path"], body)
    assert resp["retCode"] == 0, resp
    assert not (d := shape_diff(amend["response"], resp)), d
    cancel = example("rest_order_cancel.json")
    body = {**_linear_query(cancel["request"]["body"]), "orderId": resp["result"]["orderId"]}
    body.pop("orderLinkId")
    body["symbol"] = "ETHUSDT"
    resp = call("POST", cancel["path"], body)
    assert resp["retCode"] == 0, resp
    assert not (d := shape_diff(cancel["response"], resp)), d


def test_cancel_all_matches_example(world: dict[str, Any]) -> None:
    call = world["call"]
    for price in ("1500", "1510"):
        call(
            "POST",
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.10",
                "price": price,
            },
        )
    doc = example("rest_order_cancel_all.json")
    body = {k: v for k, v in doc["request"]["body"].items() if v is not None}
    resp = call("POST", doc["path"], body)
    assert resp["retCode"] == 0 and len(resp["result"]["list"]) >= 2, resp
    assert not (d := shape_diff(doc["response"], resp)), d


def test_position_actions_match_examples(world: dict[str, Any]) -> None:
    """set-leverage, trading-stop (docs' Partial body on our BTCUSDT long) and switch-mode."""
    call = world["call"]
    lev = example("rest_position_set_leverage.json")
    resp = call("POST", lev["path"], lev["request"]["body"])
    assert resp["retCode"] == 0, resp
    assert not (d := shape_diff(lev["response"], resp)), d
    stop = example("rest_position_trading_stop.json")
    price = _price(world)
    body = {
        **_linear_query(stop["request"]["body"]),
        "takeProfit": str((price * Decimal("1.2")).quantize(Decimal("0.1"))),
        "stopLoss": str((price * Decimal("0.8")).quantize(Decimal("0.1"))),
        "tpLimitPrice": str((price * Decimal("1.19")).quantize(Decimal("0.1"))),
        "slLimitPrice": str((price * Decimal("0.81")).quantize(Decimal("0.1"))),
        "tpSize": "0.01",
        "slSize": "0.01",
    }
    resp = call("POST", stop["path"], body)
    assert resp["retCode"] == 0, resp
    assert not (d := shape_diff(stop["response"], resp)), d
    switch = example("rest_position_switch_mode.json")
    body = {**_linear_query(switch["request"]["body"]), "symbol": "BTCUSDT"}
    resp = call("POST", switch["path"], {k: v for k, v in body.items() if v is not None})
    # Already one-way: Bybit's "not modified" answer, same envelope keys as the example.
    assert resp["retCode"] == 110025, resp
    assert not (d := shape_diff(switch["response"], resp)), d


def test_error_examples_match(world: dict[str, Any]) -> None:
    """Observed error replies: too-long orderLinkId, timestamp, sign, rate limit, batch, margin."""
    sim, key, secret, call = world["sim"], world["key"], world["secret"], world["call"]
    too_long = example("error_rest_10001_order_link_id_too_long.json")
    body = {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "qty": "0.001",
        **too_long["request"]["body"],
    }
    resp = call("POST", "/v5/order/create", body)
    assert resp["retCode"] == 10001
    assert not (
        d := shape_diff(too_long["response"], {k: resp[k] for k in too_long["response"]})
    ), d

    ts_doc = example("error_rest_10002_timestamp.json")
    resp = signed(
        sim.base_url, key, secret, "GET", "/v5/account/info", ts=int(time.time() * 1000) + 1737
    ).json()
    assert resp["retCode"] == 10002 and "req_timestamp[" in resp["retMsg"]
    assert not (d := shape_diff(ts_doc["response"], resp)), d

    sign_doc = example("error_rest_10004_error_sign.json")
    resp = signed(sim.base_url, key, secret + "x", "GET", "/v5/account/info").json()
    assert resp["retCode"] == 10004
    assert not (d := shape_diff(sign_doc["response"], resp)), d

    slip = example("error_rest_10001_market_slippage.json")
    resp = call("POST", "/v5/order/create", slip["request"]["body"])
    assert not (d := shape_diff(slip["response"], {k: resp[k] for k in slip["response"]})), d

    batch = example("error_rest_batch_cancel_170213.json")
    order = call(
        "POST",
        "/v5/order/create",
        {
            "category": "linear",
            "symbol": "ETHUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.10",
            "price": "1400",
        },
    )["result"]
    body = {
        "category": "linear",
        "request": [
            {"symbol": "ETHUSDT", "orderId": order["orderId"]},
            {"symbol": "BTCUSDT", "orderLinkId": "1666800494330512129"},
        ],
    }
    resp = call("POST", "/v5/order/cancel-batch", body)
    assert [c["code"] for c in resp["retExtInfo"]["list"]] == [0, 110001], resp
    assert not (d := shape_diff(batch["response"], resp)), d

    repay = example("error_rest_repay_liability_182120.json")
    resp = call("POST", "/v5/account/quick-repayment", {"coin": "USDT"})
    # No manual borrows exist in the simulator, so the documented 182120 case cannot arise; the
    # same request still answers with the example's keys.
    assert resp["retCode"] == 0 and resp["result"] == {"list": []}, resp
    assert not (d := shape_diff(repay["response"], {k: resp[k] for k in repay["response"]})), d

    margin = example("error_rest_set_margin_mode_3400045.json")
    resp = call("POST", margin["path"], margin["request"]["body"])
    assert resp["retCode"] == 3400045, resp
    assert not (d := shape_diff({**ENVELOPE, **margin["response"]}, resp)), d


def test_rate_limit_example_matches(simulator_session: Any) -> None:
    """10006 "Too many visits!" with the three X-Bapi-Limit headers, reset time not in the past."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="100")
    doc = example("error_rest_10006_rate_limit.json")
    sim.admin("POST", "/sim/ratelimits", {"endpoints": {"/v5/account/fee-rate": 2}})
    try:
        codes = []
        for _ in range(3):
            resp = signed(
                sim.base_url, key, secret, "GET", "/v5/account/fee-rate", {"category": "linear"}
            )
            codes.append(resp.json()["retCode"])
        assert codes == [0, 0, 10006]
        body = resp.json()
        assert not (d := shape_diff(doc["response"], {k: body[k] for k in doc["response"]})), d
        assert not (d := shape_diff(ENVELOPE, body)), d
        assert body["retMsg"] == "Too many visits!"
        for header in doc["response_headers"]:
            assert header in resp.headers
        assert resp.headers["X-Bapi-Limit"] == "2"
        assert resp.headers["X-Bapi-Limit-Status"] == "0"
        assert int(resp.headers["X-Bapi-Limit-Reset-Timestamp"]) >= body["time"]
    finally:
        sim.admin("DELETE", "/sim/ratelimits")


# --- WebSocket ---------------------------------------------------------------------------------
def test_public_ws_topics_match_examples(world: dict[str, Any]) -> None:
    """Subscribe replies, pongs and the first push of kline, tickers, orderbook and publicTrade."""
    sim = world["sim"]
    sock = RawSocket(sim.ws_url("/v5/public/linear"))
    try:
        sub = example("ws_subscribe.json")
        sock.send(sub["request"])
        reply = sock.recv_until(lambda m: m.get("op") == "subscribe")
        assert reply["success"] is True and reply["req_id"] == "test"
        assert not (d := shape_diff(sub["response"], reply)), d
        book = sock.recv_until(lambda m: m.get("topic") == "orderbook.1.BTCUSDT")
        assert not (d := shape_diff(example("ws_public_orderbook.json")["response"], book)), d
        for name in ("ws_public_kline.json", "ws_public_tickers.json"):
            doc = example(name)
            sock.send(
                doc["request"]
                if "request" in doc and doc["request"].get("op")
                else {
                    "op": "subscribe",
                    "args": [
                        doc["topic"].replace("{interval}", "5").replace("{symbol}", "BTCUSDT")
                    ],
                }
            )
            reply = sock.recv_until(lambda m: m.get("op") == "subscribe")
            assert not (d := shape_diff(doc["subscribe_reply"], reply)), d
            push = sock.recv_until(
                lambda m: "topic" in m and m["topic"].split(".")[0] in ("kline", "tickers")
            )
            assert not (d := shape_diff(doc["response"], push)), d
        trade = example("ws_public_trade.json")
        sock.send(trade["request"])
        sock.recv_until(lambda m: m.get("op") == "subscribe")
        sim.advance(ms=30_000)
        push = sock.recv_until(lambda m: m.get("topic") == "publicTrade.BTCUSDT")
        assert not (d := shape_diff(trade["response"], push)), d
        unsub = sub["request_variants"][1]["request"]
        sock.send({**unsub, "args": ["publicTrade.BTCUSDT"]})
        reply = sock.recv_until(lambda m: m.get("op") == "unsubscribe")
        assert reply["success"] is True and reply["req_id"] == "customised_id"
        assert not (d := shape_diff(sub["response"], reply)), d
        many = sub["request_variants"][0]["request"]
        sock.send(many)
        reply = sock.recv_until(lambda m: m.get("op") == "subscribe")
        assert reply["success"] is False  # orderbook.1.BTCUSDT is already subscribed on this socket
        ping = example("ws_ping_pong.json")
        sock.send(ping["request"])
        pong = sock.recv_until(lambda m: m.get("ret_msg") == "pong")
        assert not (d := shape_diff(ping["response"], pong)), d
    finally:
        sock.close()


def test_private_ws_matches_examples(world: dict[str, Any]) -> None:
    """Auth, pong, and order/execution/position/wallet pushes in Bybit's private shapes."""
    sim, key, secret = world["sim"], world["key"], world["secret"]
    sock = RawSocket(sim.ws_url("/v5/private"))
    try:
        auth_doc = example("ws_auth.json")
        reply = sock.auth(key, secret)
        assert reply["success"] is True
        assert not (d := shape_diff(auth_doc["response"], reply)), d
        sock.send({"req_id": "test", "op": "ping"})
        pong = sock.recv()
        assert not (
            d := shape_diff(example("ws_ping_pong.json")["response_variants"][2]["response"], pong)
        ), d
        sock.send(
            {
                "req_id": "s1",
                "op": "subscribe",
                "args": ["order", "execution", "position", "wallet"],
            }
        )
        reply = sock.recv()
        assert reply["success"] is True and reply["req_id"] == "s1"
        sub_doc = example("ws_private_order.json")["subscribe_reply"]
        assert not (d := shape_diff({**sub_doc, "req_id": "s1"}, reply)), d
        world["call"](
            "POST",
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.001",
            },
        )
        pushes: dict[str, Any] = {}
        while len(pushes) < 4:
            m = sock.recv()
            pushes.setdefault(m["topic"], m)
        assert list(pushes) == ["order", "execution", "position", "wallet"]
        order_doc = example("ws_private_order.json")
        assert set(pushes["order"]["data"][0]) == table_keys(order_doc)
        assert not (
            d := shape_diff({**order_doc["response"], "data": []}, {**pushes["order"], "data": []})
        ), d
        common = {k: v for k, v in order_doc["response"]["data"][0].items()}
        mine = {k: pushes["order"]["data"][0][k] for k in common}
        assert not (d := shape_diff(common, mine)), d
        exec_doc = example("ws_private_execution.json")
        # The topic's table plus marketUnit, which Bybit's own stream example and real replies
        # carry (the pack withholds the stream example; see exchange/simulator/bybit_json.py).
        assert set(pushes["execution"]["data"][0]) == table_keys(exec_doc) | {"marketUnit"}
        types = {"boolean": bool, "long": int, "string": str, "List": list}
        for p in exec_doc["response_params"]:
            if p["name"].startswith("> "):
                value = pushes["execution"]["data"][0][p["name"][2:]]
                assert isinstance(value, types[p["type"]]), p
        assert not (
            d := shape_diff(example("ws_private_position.json")["response"], pushes["position"])
        ), d
        assert not (
            d := shape_diff(example("ws_private_wallet.json")["response"], pushes["wallet"])
        ), d
    finally:
        sock.close()


def test_trade_ws_matches_examples(world: dict[str, Any]) -> None:
    """Order entry socket: auth, order.create ack with rate-limit header, batch with item codes."""
    sim, key, secret = world["sim"], world["key"], world["secret"]
    sock = RawSocket(sim.ws_url("/v5/trade"))
    try:
        expires = int(time.time() * 1000) + 5000
        sock.send({"op": "auth", "args": [key, expires, sign(secret, f"GET/realtime{expires}")]})
        reply = sock.recv()
        assert reply["retCode"] == 0
        assert not (d := shape_diff(example("ws_trade_auth.json")["response"], reply)), d
        doc = example("ws_trade_order_create.json")
        request = {
            **doc["request"],
            "header": {
                "X-BAPI-TIMESTAMP": str(int(time.time() * 1000)),
                "X-BAPI-RECV-WINDOW": "8000",
            },
        }
        sock.send(request)
        reply = sock.recv()
        assert reply["retCode"] == 0, reply
        assert not (d := shape_diff(doc["response"], reply)), d
        batch = example("ws_trade_order_create_batch.json")
        request = {**batch["request"], "header": {"X-BAPI-TIMESTAMP": int(time.time() * 1000)}}
        request["args"] = [
            {
                "category": "linear",
                "request": [
                    {**item, "symbol": "ETHUSDT", "price": "1500", "qty": "0.10", "positionIdx": 1}
                    for item in batch["request"]["args"][0]["request"]
                ],
            }
        ]
        sock.send(request)
        reply = sock.recv()
        assert [c["code"] for c in reply["retExtInfo"]["list"]] == [10001, 10001, 10001], reply
        assert reply["retExtInfo"]["list"][0]["msg"] == "position idx not match position mode"
        assert not (d := shape_diff(batch["response"], reply)), d
        sock.send({"op": "ping"})
        pong = sock.recv()
        assert not (
            d := shape_diff(example("ws_ping_pong.json")["response_variants"][4]["response"], pong)
        ), d
    finally:
        sock.close()
