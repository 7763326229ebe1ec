"""Helpers of the gateway tests: a gateway on a simulator key, a price that rests, a clean limiter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.credentials import Credentials
from exchange.gateway import ExchangeGateway
from tradingsvc.lib.redis import get_redis
from tradingsvc.lib.secret import Secret


def flush_limiter() -> None:
    r = get_redis()
    for pattern in ("xlim:*", "xclock:*"):
        keys = list(r.scan_iter(pattern))
        if keys:
            r.delete(*keys)


def gateway_for(key: str, secret: str, **kwargs: Any) -> ExchangeGateway:
    return ExchangeGateway.for_credentials(
        "simulator", Credentials(api_key=Secret(key), api_secret=Secret(secret)), **kwargs
    )


def below_market(sim: Any, symbol: str = "BTCUSDT", factor: str = "0.9") -> Decimal:
    """A limit price that will rest (not fill) for a buy."""
    last = Decimal(str(sim.admin("GET", "/sim/clock")["prices"][symbol]))
    tick = Decimal("0.1") if symbol == "BTCUSDT" else Decimal("0.01")
    return (last * Decimal(factor) / tick).to_integral_value() * tick
