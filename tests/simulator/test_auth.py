"""Signing exactly as Bybit: over the raw query/body, recv_window rule, and each failure's retCode."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pybit.exceptions import FailedRequestError, InvalidRequestError

from exchange.simulator import auth
from exchange.simulator.errors import BybitError
from exchange.simulator.records import ApiKey
from tests.simulator.helpers import RawSocket, sign, signed

TEST_KEY = ApiKey("testkey", "testsecret", 1, 1, False, False, 0)


def _lookup(name: str) -> ApiKey | None:
    return TEST_KEY if name == "testkey" else None


@pytest.mark.parametrize(
    ("ts", "payload", "signature"),
    [
        # Worked signatures observed from pybit 5.17.0 (bybit_examples/auth.md).
        (
            "1795490959367",
            "category=linear&symbol=BTCUSDT",
            "12071f6a595d77e2949805beb904c3a4b3eed8405d8baeb2ab4e54043a4bd4d7",
        ),
        (
            "1795490959371",
            "category=linear&cursor=page_args%3Dfd43%26symbol%3D6%26&settleCoin=USDT",
            "cbac825de9aee03f53090d25a1758ef6a0333d71f6d6e4c09d395f5a21a77d04",
        ),
        (
            "1795490959374",
            '{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", '
            '"qty": "0.001", "price": "25000", "positionIdx": 0, "orderLinkId": "abc-1", '
            '"reduceOnly": false}',
            "739c78e85e0543727b5ae2e88467a8731010351e2f01c433e2e7da570552b483",
        ),
    ],
)
def test_documented_signatures_verify(ts: str, payload: str, signature: str) -> None:
    """The pack's worked examples authenticate; one changed byte of the payload does not."""
    headers = {
        "X-BAPI-API-KEY": "testkey",
        "X-BAPI-SIGN": signature,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
    }
    assert auth.check_rest(headers, payload, int(ts), _lookup) is TEST_KEY
    with pytest.raises(BybitError) as exc:
        auth.check_rest(headers, payload + " ", int(ts), _lookup)
    assert exc.value.code == 10004


def test_ws_signature_vector() -> None:
    """``GET/realtime{expires}`` signed with the secret, as in auth.md."""
    assert auth.sign("testsecret", "GET/realtime1795490986121") == (
        "0122225000ccfed4b9b71d4c05f5b87afe5a61efc6b698a54ae1d85f57987415"
    )
    assert (
        auth.check_ws(
            TEST_KEY,
            1795490986121,
            auth.sign("testsecret", "GET/realtime1795490986121"),
            1795490986000,
        )
        is None
    )
    assert auth.check_ws(TEST_KEY, 1795490986121, "0" * 64, 1795490986000) == "Invalid sign"
    assert auth.check_ws(TEST_KEY, 1795490986121, "x", 1795490987000) is not None


@pytest.mark.parametrize(
    ("offset", "ok"), [(-5000, True), (-5001, False), (999, True), (1000, False)]
)
def test_recv_window_rule(offset: int, ok: bool) -> None:
    """server_time - recv_window <= timestamp < server_time + 1000, else 10002."""
    server = 1_800_000_000_000
    ts = str(server + offset)
    payload = "category=linear"
    headers = {
        "X-BAPI-API-KEY": "testkey",
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign("testsecret", f"{ts}testkey5000{payload}"),
    }
    if ok:
        assert auth.check_rest(headers, payload, server, _lookup) is TEST_KEY
    else:
        with pytest.raises(BybitError) as exc:
            auth.check_rest(headers, payload, server, _lookup)
        assert exc.value.code == 10002
        assert f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[5000]" in (
            exc.value.message
        )


def test_raw_body_and_query_are_what_is_signed(simulator_session: Any) -> None:
    """Compact and spaced JSON, any query order: whatever bytes were signed are accepted."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="1000")
    body = {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "3", "sellLeverage": "3"}
    spaced = json.dumps(body, indent=2)
    resp = signed(sim.base_url, key, secret, "POST", "/v5/position/set-leverage", body_text=spaced)
    assert resp.json()["retCode"] == 0
    compact = json.dumps({**body, "buyLeverage": "4", "sellLeverage": "4"}, separators=(",", ":"))
    resp = signed(sim.base_url, key, secret, "POST", "/v5/position/set-leverage", body_text=compact)
    assert resp.json()["retCode"] == 0
    resp = signed(
        sim.base_url,
        key,
        secret,
        "GET",
        "/v5/position/list",
        {"symbol": "BTCUSDT", "category": "linear"},
    )
    assert resp.json()["retCode"] == 0
    assert resp.json()["result"]["list"][0]["leverage"] == "4"


def test_auth_failures_through_pybit(simulator_session: Any) -> None:
    """Unknown key 10003, wrong secret 10004, read-only key writing 10005 reach pybit as errors."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="1000")
    with pytest.raises(InvalidRequestError) as exc:
        sim.http("nosuchkey123", secret).get_wallet_balance(accountType="UNIFIED")
    assert exc.value.status_code == 10003
    with pytest.raises(InvalidRequestError) as exc:
        sim.http(key, secret + "x").get_wallet_balance(accountType="UNIFIED")
    assert exc.value.status_code == 10004
    _, ro_key, ro_secret = sim.create_account(usdt="1000", read_only=True)
    ro = sim.http(ro_key, ro_secret)
    assert ro.get_api_key_information()["result"]["readOnly"] == 1
    assert "Withdraw" not in ro.get_api_key_information()["result"]["permissions"]["Wallet"]
    assert ro.get_positions(category="linear", symbol="BTCUSDT")["retCode"] == 0
    with pytest.raises(InvalidRequestError) as exc:
        ro.place_order(
            category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.001"
        )
    assert exc.value.status_code == 10005
    import requests

    unsigned = requests.get(f"{sim.base_url}/v5/account/info", timeout=10).json()
    assert unsigned["retCode"] == 10001 and "X-BAPI-SIGN" in unsigned["retMsg"]


def test_clock_skew_gives_10002_and_pybit_gives_up(simulator: Any) -> None:
    """Server clock 10 s behind the client: every attempt is 10002; pybit retries then fails."""
    _, key, secret = simulator.create_account(usdt="1000")
    simulator.admin("POST", "/sim/clock/skew", {"ms": -10_000})
    http = simulator.http(key, secret, retry_delay=0, max_retries=2)
    with pytest.raises(FailedRequestError) as exc:
        http.get_wallet_balance(accountType="UNIFIED")
    assert "retries exceeded" in str(exc.value).lower()
    simulator.clear_faults()
    assert http.get_wallet_balance(accountType="UNIFIED")["retCode"] == 0
    server = int(http.get_server_time()["result"]["timeSecond"])
    assert abs(server - time.time()) < 5


def test_ws_auth_failure_reply(simulator_session: Any) -> None:
    """A bad WebSocket signature answers success=false; a good one authenticates."""
    sim = simulator_session
    _, key, secret = sim.create_account(usdt="10")
    sock = RawSocket(sim.ws_url("/v5/private"))
    try:
        bad = sock.auth(key, secret + "x")
        assert bad["success"] is False and bad["op"] == "auth"
        sock.send({"op": "subscribe", "req_id": "a", "args": ["order"]})
        refused = sock.recv()
        assert refused["success"] is False and refused["ret_msg"] == "Request not authorized"
        good = sock.auth(key, secret)
        assert good["success"] is True
    finally:
        sock.close()
