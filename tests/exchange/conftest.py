"""Shared fixtures of the gateway tests: settings pointed at the running simulator, fresh limiter."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from exchange import clock
from exchange.credentials import Credentials
from exchange.gateway import ExchangeGateway
from exchange.limiter import reset_limiter
from tradingsvc.lib.redis import get_redis
from tradingsvc.lib.secret import Secret


def point_settings_at(settings: Any, sim: Any) -> None:
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": sim.base_url}
    ws = sim.base_url.replace("http://", "ws://")
    settings.EXCHANGE_WS_URLS = {
        **settings.EXCHANGE_WS_URLS,
        "simulator": {"public": ws, "private": ws},
    }


def flush_limiter() -> None:
    r = get_redis()
    for pattern in ("xlim:*", "xclock:*"):
        keys = list(r.scan_iter(pattern))
        if keys:
            r.delete(*keys)


@pytest.fixture
def sim(simulator_session: Any, settings: Any) -> Iterator[Any]:
    """The session simulator with the gateway's settings pointed at it and clean limiter state."""
    point_settings_at(settings, simulator_session)
    settings.EXCHANGE_STREAM_HANDLERS = []  # the engine's hook is tested with the engine
    flush_limiter()
    reset_limiter()
    clock.forget(simulator_session.base_url)
    yield simulator_session
    simulator_session.clear_faults()
    reset_limiter()
    clock.forget(simulator_session.base_url)


def gateway_for(key: str, secret: str, **kwargs: Any) -> ExchangeGateway:
    return ExchangeGateway.for_credentials(
        "simulator", Credentials(api_key=Secret(key), api_secret=Secret(secret)), **kwargs
    )


def below_market(sim: Any, symbol: str = "BTCUSDT", factor: str = "0.9") -> Decimal:
    """A limit price that will rest (not fill) for a buy."""
    last = Decimal(str(sim.admin("GET", "/sim/clock")["prices"][symbol]))
    tick = Decimal("0.1") if symbol == "BTCUSDT" else Decimal("0.01")
    return (last * Decimal(factor) / tick).to_integral_value() * tick
