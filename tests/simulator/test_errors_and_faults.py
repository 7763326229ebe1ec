"""Every error answer the simulator gives, as pybit (unchanged) receives it, and the chaos faults."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError

ORDER = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "side": "Buy",
    "orderType": "Limit",
    "qty": "0.001",
    "price": "90000.0",
}


@pytest.fixture
def trader(simulator_session: Any) -> Any:
    _, key, secret = simulator_session.create_account(usdt="20000")
    return simulator_session.http(key, secret, retry_delay=0)


def _code(call: Any, **params: Any) -> int:
    with pytest.raises(InvalidRequestError) as exc:
        call(**params)
    code: int = exc.value.status_code
    return code


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"orderLinkId": "x" * 37}, 10001),  # longer than the documented 36
        ({"orderLinkId": "has space"}, 10001),  # outside [0-9A-Za-z_-]
        ({"price": "90000.05"}, 10001),  # off the 0.10 tick
        ({"qty": "0.0015"}, 10001),  # off the 0.001 lot step
        ({"qty": "0.0001"}, 110017),  # truncates to zero
        ({"qty": "1191"}, 10001),  # above maxOrderQty 1190
        ({"orderType": "Market", "qty": "501"}, 10001),  # above maxMktOrderQty 500
        ({"price": "1000.0", "qty": "0.001"}, 110094),  # notional 1 < minNotionalValue 5
        ({"price": "2000000.0"}, 110003),  # above maxPrice
        ({"symbol": "DOGEUSDT"}, 10001),
        ({"category": "spot"}, 10001),
        ({"positionIdx": 1}, 10001),  # hedge-mode index in one-way mode
        ({"timeInForce": "GTD"}, 10001),
        ({"qty": "100"}, 110007),  # 9,000,000 USDT notional on a 20,000 USDT account
        ({"reduceOnly": True}, 110017),  # nothing to reduce
        ({"triggerPrice": "1000.0", "triggerDirection": 1}, 110092),  # rise below the price
        ({"triggerPrice": "1000000.0", "triggerDirection": 2}, 110093),
        ({"takeProfit": "80000.0"}, 10001),  # TP below a buy
    ],
)
def test_order_create_rejections(trader: Any, change: dict[str, Any], code: int) -> None:
    """Each invalid order gets Bybit's retCode, raised by pybit as InvalidRequestError."""
    assert _code(trader.place_order, **{**ORDER, **change}) == code


def test_duplicate_order_link_id_110072(trader: Any) -> None:
    """A repeated orderLinkId is refused (even after the first order is gone), no second order."""
    first = trader.place_order(**ORDER, orderLinkId="dup-1")["result"]
    trader.cancel_order(category="linear", symbol="BTCUSDT", orderId=first["orderId"])
    assert _code(trader.place_order, **ORDER, orderLinkId="dup-1") == 110072
    found = trader.get_open_orders(category="linear", orderLinkId="dup-1")["result"]["list"]
    assert [o["orderId"] for o in found] == [first["orderId"]]


def test_amend_cancel_leverage_mode_errors(trader: Any) -> None:
    """110001 unknown/finished order, amend without change 10001, 110043, 110025, 10001s."""
    assert _code(trader.cancel_order, category="linear", symbol="BTCUSDT", orderId="nope") == 110001
    oid = trader.place_order(**ORDER)["result"]["orderId"]
    assert (
        _code(trader.amend_order, category="linear", symbol="BTCUSDT", orderId=oid, price="90000.0")
        == 10001
    )
    trader.cancel_order(category="linear", symbol="BTCUSDT", orderId=oid)
    assert _code(trader.cancel_order, category="linear", symbol="BTCUSDT", orderId=oid) == 110001
    assert (
        _code(trader.amend_order, category="linear", symbol="BTCUSDT", orderId=oid, price="91000.0")
        == 110001
    )
    assert (
        _code(
            trader.set_leverage,
            category="linear",
            symbol="BTCUSDT",
            buyLeverage="10",
            sellLeverage="10",
        )
        == 110043
    )
    assert (
        _code(
            trader.set_leverage,
            category="linear",
            symbol="BTCUSDT",
            buyLeverage="101",
            sellLeverage="101",
        )
        == 10001
    )
    assert (
        _code(
            trader.set_leverage,
            category="linear",
            symbol="BTCUSDT",
            buyLeverage="5",
            sellLeverage="6",
        )
        == 10001
    )
    assert _code(trader.switch_position_mode, category="linear", symbol="BTCUSDT", mode=0) == 110025
    assert _code(trader.switch_position_mode, category="linear", symbol="BTCUSDT", mode=3) == 10001
    assert (
        _code(
            trader.set_trading_stop,
            category="linear",
            symbol="BTCUSDT",
            takeProfit="200000.0",
            positionIdx=0,
        )
        == 10001
    )  # no position
    assert _code(trader.get_positions, category="linear") == 10001  # symbol or settleCoin
    assert _code(trader.cancel_all_orders, category="linear") == 10001
    assert _code(trader.get_kline, category="linear", symbol="BTCUSDT", interval="2") == 10001
    assert (
        _code(trader.get_kline, category="linear", symbol="BTCUSDT", interval="1", limit=1001)
        == 10001
    )
    assert (
        _code(trader.get_order_history, category="linear", startTime=0, endTime=8 * 86_400_000)
        == 10001
    )
    assert _code(trader.get_open_orders, category="linear", cursor="garbage") == 10001


def test_rate_limit_10006_pybit_waits_and_recovers(simulator_session: Any) -> None:
    """pybit sleeps until X-Bapi-Limit-Reset-Timestamp and retries; the retry succeeds."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="100")
    http = sim.http(key, secret, retry_delay=0, return_response_headers=True)
    sim.admin("POST", "/sim/ratelimits", {"endpoints": {"/v5/account/fee-rate": 1}})
    try:
        _, _, headers = http.get_fee_rates(category="linear")
        assert headers["X-Bapi-Limit"] == "1" and headers["X-Bapi-Limit-Status"] == "0"
        started = time.monotonic()
        body, _, headers = http.get_fee_rates(category="linear")
        assert body["retCode"] == 0
        assert 0.2 < time.monotonic() - started < 3
        strict = sim.http(key, secret, retry_delay=0, max_retries=1)
        with pytest.raises(FailedRequestError):
            strict.get_fee_rates(category="linear")
    finally:
        sim.admin("DELETE", "/sim/ratelimits")


def test_default_limits_and_headers(simulator_session: Any) -> None:
    """Every private answer carries the limit headers; order/create allows 10 per second."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="100000")
    http = sim.http(key, secret, return_response_headers=True, max_retries=1)
    _, _, headers = http.get_wallet_balance(accountType="UNIFIED")
    assert headers["X-Bapi-Limit"] == "50"
    assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) >= int(time.time() * 1000) - 1000
    codes = []
    for _ in range(11):
        try:
            body, _, _ = http.place_order(**ORDER)
            codes.append(body["retCode"])
        except FailedRequestError:
            codes.append(10006)
    assert codes.count(0) == 10 and codes[-1] == 10006


def test_ip_limit_403(simulator: Any) -> None:
    """Over the per-IP limit the answer is HTTP 403, which pybit raises without retrying."""
    _, key, secret = simulator.create_account(usdt="100")
    simulator.admin("POST", "/sim/ratelimits", {"ip_limit": 5, "ip_ban_ms": 1500})
    http = simulator.http(key, secret)
    for _ in range(4):
        http.get_server_time()
    with pytest.raises(FailedRequestError) as exc:
        for _ in range(3):
            http.get_server_time()
    assert exc.value.status_code == 403
    assert "IP rate limit" in exc.value.message
    time.sleep(1.6)
    simulator.admin("DELETE", "/sim/ratelimits")
    assert http.get_server_time()["retCode"] == 0


def test_faults_5xx_10016_maintenance_latency(simulator_session: Any) -> None:
    """Injected HTTP 502, retCode 10016 (server error / restarting) and added latency, per account."""
    sim = simulator_session
    uid, key, secret = sim.create_account(usdt="1000")
    _, other_key, other_secret = sim.create_account(usdt="1000")
    http = sim.http(key, secret)
    other = sim.http(other_key, other_secret)
    try:
        sim.fault("http_5xx", uid=uid, status=502, count=1)
        with pytest.raises(FailedRequestError) as exc:
            http.get_wallet_balance(accountType="UNIFIED")
        assert exc.value.status_code == 502
        assert http.get_wallet_balance(accountType="UNIFIED")["retCode"] == 0  # count=1 expired
        sim.fault("server_error", uid=uid, path="/v5/order/create")
        with pytest.raises(InvalidRequestError) as ie:
            http.place_order(**ORDER)
        assert ie.value.status_code == 10016 and ie.value.message == "Server error."
        assert other.place_order(**ORDER)["retCode"] == 0  # other accounts unaffected
        assert http.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"] == []
        sim.clear_faults()
        sim.fault("maintenance")
        with pytest.raises(InvalidRequestError) as ie:
            other.get_positions(category="linear", symbol="BTCUSDT")
        assert ie.value.status_code == 10016 and "restarting" in ie.value.message
        sim.clear_faults()
        sim.fault("latency", uid=uid, ms=300)
        started = time.monotonic()
        http.get_wallet_balance(accountType="UNIFIED")
        assert time.monotonic() - started >= 0.3
    finally:
        sim.clear_faults()


def test_probabilistic_faults_are_seeded(simulator: Any) -> None:
    """A 50% fault with a seed fails the same requests on every run."""
    _, key, secret = simulator.create_account(usdt="10")
    http = simulator.http(key, secret, retry_delay=0)

    def pattern() -> list[bool]:
        simulator.clear_faults()
        simulator.fault("server_error", probability=0.5, seed=42, path="/v5/account")
        out = []
        for _ in range(12):
            try:
                http.get_wallet_balance(accountType="UNIFIED")
                out.append(True)
            except InvalidRequestError:
                out.append(False)
        return out

    first = pattern()
    assert first == pattern()
    assert True in first and False in first
    simulator.clear_faults()


def test_drop_reply_order_exists(simulator_session: Any) -> None:
    """Accepted, then no answer: the client sees a network error, the order is on the book."""
    sim = simulator_session
    uid, key, secret = sim.create_account(usdt="1000")
    http = sim.http(key, secret, timeout=2)
    sim.fault("drop_reply", uid=uid, path="/v5/order/create", count=1)
    try:
        with pytest.raises((requests.ConnectionError, requests.Timeout)):
            http.place_order(**ORDER, orderLinkId="lost-reply-1")
        found = http.get_open_orders(category="linear", orderLinkId="lost-reply-1")["result"][
            "list"
        ]
        assert len(found) == 1 and found[0]["orderStatus"] == "New"
        # Re-sending the same intent is refused, so it cannot double.
        with pytest.raises(InvalidRequestError) as exc:
            http.place_order(**ORDER, orderLinkId="lost-reply-1")
        assert exc.value.status_code == 110072
    finally:
        sim.clear_faults()


def test_admin_money_movements_in_transaction_log(simulator_session: Any) -> None:
    """Deposits and withdrawals show as TRANSFER_IN / TRANSFER_OUT with the running balance."""
    sim = simulator_session
    uid, key, secret = sim.create_account(usdt="100")
    sim.admin("POST", f"/sim/accounts/{uid}/deposit", {"amount": "50.5"})
    sim.admin("POST", f"/sim/accounts/{uid}/withdraw", {"amount": "20"})
    with pytest.raises(RuntimeError):
        sim.admin("POST", f"/sim/accounts/{uid}/withdraw", {"amount": "1000"})
    log = sim.http(key, secret).get_transaction_log(accountType="UNIFIED")["result"]["list"]
    assert [(t["type"], t["change"], t["cashBalance"]) for t in log] == [
        ("TRANSFER_OUT", "-20", "130.5"),
        ("TRANSFER_IN", "50.5", "150.5"),
        ("TRANSFER_IN", "100", "100"),
    ]
    wallet = sim.http(key, secret).get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    assert Decimal(wallet["totalWalletBalance"]) == Decimal("130.5")
