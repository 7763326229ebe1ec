"""Each typed error of the gateway, produced by a real scenario against the running simulator."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from exchange import clock
from exchange.errors import (
    AuthenticationError,
    DuplicateOrderLinkIdError,
    ExchangeUnavailableError,
    InsufficientBalanceError,
    InvalidOrderError,
    PermissionDeniedError,
    RateLimitedError,
    TimestampError,
    UnknownOutcomeError,
    WrongEnvironmentError,
)
from exchange.types import OrderRequest
from tests.exchange.helpers import below_market, gateway_for
from tests.fixtures.simulator import point_settings_at

pytestmark = pytest.mark.django_db


def _order(sim: Any, **kw: Any) -> OrderRequest:
    base: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "Buy",
        "order_type": "Limit",
        "qty": Decimal("0.001"),
        "price": below_market(sim),
        "order_link_id": f"t-{uuid.uuid4().hex[:20]}",
    }
    base.update(kw)
    return OrderRequest(**base)


def test_wrong_secret_is_an_authentication_error_without_the_secret(sim: Any) -> None:
    """A bad signature (10004) is an AuthenticationError whose text holds neither key nor secret."""
    _, key, _secret = sim.create_account()
    wrong = "WRONG" + "x" * 31
    with pytest.raises(AuthenticationError) as exc:
        gateway_for(key, wrong).wallet_balance()
    assert exc.value.ret_code == 10004
    assert not isinstance(exc.value, WrongEnvironmentError)
    text = str(exc.value) + repr(exc.value.as_dict()) + exc.value.exchange_message
    assert key not in text and wrong not in text


def test_unknown_key_suggests_checking_the_environment(sim: Any) -> None:
    """A key Bybit does not know here (10003, "4 env") says to check the environment."""
    with pytest.raises(WrongEnvironmentError) as exc:
        gateway_for("NOSUCHKEY123", "s" * 36).api_key_info()
    assert isinstance(exc.value, AuthenticationError)
    assert exc.value.ret_code == 10003
    assert "environment" in exc.value.message


def test_stale_timestamp_is_a_timestamp_error_and_the_offset_fixes_it(
    simulator: Any, settings: Any
) -> None:
    """Bybit's clock 30 s ahead: unsynced signing gets 10002; the measured offset absorbs it."""
    point_settings_at(settings, simulator)
    _, key, secret = simulator.create_account()
    simulator.admin("POST", "/sim/clock/skew", {"ms": 30_000})
    clock.forget(simulator.base_url)
    try:
        with pytest.raises(TimestampError) as exc:
            gateway_for(key, secret, clock_sync=False).wallet_balance()
        assert exc.value.ret_code == 10002
        synced = gateway_for(key, secret)
        assert synced.wallet_balance().total_equity == Decimal("10000")
        assert 29_000 < clock.offset_ms(simulator.base_url, None) < 31_000
    finally:
        clock.forget(simulator.base_url)


def test_read_only_key_cannot_place_an_order(sim: Any) -> None:
    """A read-only key placing an order gets PermissionDeniedError (10005)."""
    _, key, secret = sim.create_account(read_only=True)
    with pytest.raises(PermissionDeniedError) as exc:
        gateway_for(key, secret).place_order(_order(sim))
    assert exc.value.ret_code == 10005
    assert "permission" in exc.value.message.lower()


def test_oversize_quantity_is_an_invalid_order(sim: Any) -> None:
    """Above maxOrderQty the order is refused as InvalidOrderError naming the quantity."""
    _, key, secret = sim.create_account(usdt="100000000")
    with pytest.raises(InvalidOrderError) as exc:
        gateway_for(key, secret).place_order(_order(sim, qty=Decimal("1191")))
    assert exc.value.ret_code == 10001
    assert "maximum" in exc.value.message


def test_insufficient_balance(sim: Any) -> None:
    """An order worth more than the margin available is InsufficientBalanceError (110007)."""
    _, key, secret = sim.create_account(usdt="100")
    with pytest.raises(InsufficientBalanceError) as exc:
        gateway_for(key, secret).place_order(_order(sim, qty=Decimal("1")))
    assert exc.value.ret_code == 110007


def test_duplicate_order_link_id(sim: Any) -> None:
    """Sending the same orderLinkId twice: the second is DuplicateOrderLinkIdError (110072)."""
    _, key, secret = sim.create_account()
    gw = gateway_for(key, secret)
    order = _order(sim)
    gw.place_order(order)
    with pytest.raises(DuplicateOrderLinkIdError) as exc:
        gw.place_order(order)
    assert exc.value.ret_code == 110072


def test_burst_from_another_client_gives_rate_limited_with_retry_after(sim: Any) -> None:
    """Another program spends the UID's order budget: our write gets 10006 with retry_after,
    is not re-sent, and the limiter then holds the next call until Bybit's reset."""
    _, key, secret = sim.create_account(usdt="100000")
    foreign = sim.http(key, secret, max_retries=1, retry_codes=set())
    price = str(below_market(sim))
    for i in range(10):
        foreign.place_order(
            category="linear",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.001",
            price=price,
            orderLinkId=f"f{i}-{uuid.uuid4().hex[:8]}",
        )
    gw = gateway_for(key, secret)
    with pytest.raises(RateLimitedError) as exc:
        gw.place_order(_order(sim))
    assert exc.value.ret_code == 10006
    assert exc.value.retry_after is not None and 0 < exc.value.retry_after <= 1.1
    started = time.monotonic()
    gw.place_order(_order(sim))  # the limiter waits for the reset instead of earning another 10006
    assert time.monotonic() - started > 0.05
    assert len(gw.open_orders("BTCUSDT")) == 11


def test_injected_5xx_is_exchange_unavailable_and_reads_retry(sim: Any) -> None:
    """HTTP 502 once: a read retries and succeeds; persistent 502 surfaces ExchangeUnavailableError;
    a write refused for maintenance (10016 "Service is restarting") is unavailable, not retried."""
    uid, key, secret = sim.create_account()
    gw = gateway_for(key, secret)
    sim.fault("http_5xx", uid=None, path="/v5/account/wallet-balance", count=1)
    assert gw.wallet_balance().total_equity == Decimal("10000")
    sim.fault("http_5xx", path="/v5/account/wallet-balance", count=10)
    with pytest.raises(ExchangeUnavailableError) as exc:
        gw.wallet_balance()
    assert exc.value.http_status == 502
    sim.clear_faults()
    sim.fault("maintenance", uid=uid, path="/v5/order/create", count=2)
    with pytest.raises(ExchangeUnavailableError) as exc2:
        gw.place_order(_order(sim))
    assert exc2.value.ret_code == 10016
    assert sim.admin("GET", f"/sim/accounts/{uid}")["open_orders"] == 0


def test_5xx_on_a_write_is_unknown_outcome_and_resolves_by_query(sim: Any) -> None:
    """A proxy's 502 on order/create may follow a placed order: the gateway says "unknown",
    sends nothing again, and the query settles it (here: the order never arrived)."""
    uid, key, secret = sim.create_account()
    gw = gateway_for(key, secret)
    sim.fault("http_5xx", uid=uid, path="/v5/order/create", count=1, status=502)
    order = _order(sim)
    with pytest.raises(UnknownOutcomeError) as exc:
        gw.place_order(order)
    assert exc.value.http_status == 502 and exc.value.order_link_id == order.order_link_id
    assert gw.get_order("BTCUSDT", order_link_id=order.order_link_id) is None
    sim.fault("server_error", uid=uid, path="/v5/order/create", count=1)
    with pytest.raises(UnknownOutcomeError) as exc2:
        gw.place_order(_order(sim))
    assert exc2.value.ret_code == 10016


def test_dropped_reply_is_unknown_outcome_and_the_order_is_found(sim: Any) -> None:
    """The order is accepted but the reply is lost: UnknownOutcomeError with the orderLinkId,
    the order was sent once, and get_order finds it."""
    uid, key, secret = sim.create_account()
    gw = gateway_for(key, secret)
    sim.fault("drop_reply", uid=uid, path="/v5/order/create", count=1, ms=50)
    order = _order(sim)
    with pytest.raises(UnknownOutcomeError) as exc:
        gw.place_order(order)
    assert exc.value.order_link_id == order.order_link_id
    found = gw.get_order("BTCUSDT", order_link_id=order.order_link_id)
    assert found is not None and found.status == "New"
    assert sim.admin("GET", f"/sim/accounts/{uid}")["open_orders"] == 1
