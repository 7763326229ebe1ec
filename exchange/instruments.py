"""Instrument rules (tick, lot, min/max qty, max leverage), cached, with quantising helpers.

Rules are public and the same for every tenant, so they are kept once per environment: in-process
for ``EXCHANGE_INSTRUMENTS_TTL_SECONDS`` and in Redis for every other process, refreshed by the
``exchange.refresh_instruments`` beat task (and on a miss). ``quantize_price``/``quantize_qty`` round
to the tick and lot; quantities always round down so an order never exceeds the risk asked for.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, fields
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from django.conf import settings

from exchange.types import Instrument

_local: dict[str, tuple[float, dict[str, Instrument]]] = {}
_lock = threading.Lock()
_DECIMAL_FIELDS = {f.name for f in fields(Instrument) if f.type in ("Decimal", Decimal)}


def _redis_key(environment: str) -> str:
    return f"xinstruments:{environment}"


def _encode(instruments: dict[str, Instrument]) -> str:
    return json.dumps({s: asdict(i) for s, i in instruments.items()}, default=str)


def _decode(text: str | bytes) -> dict[str, Instrument]:
    raw: dict[str, dict[str, Any]] = json.loads(text)
    out: dict[str, Instrument] = {}
    for symbol, d in raw.items():
        values: dict[str, Any] = {
            k: Decimal(v) if k in _DECIMAL_FIELDS else v for k, v in d.items()
        }
        out[symbol] = Instrument(**values)
    return out


def instruments_refresh(environment: str) -> dict[str, Instrument]:
    """Fetch every linear instrument of ``environment`` and share the result."""
    from exchange.gateway import ExchangeGateway
    from tradingsvc.lib.redis import get_redis

    found = {i.symbol: i for i in ExchangeGateway.public(environment).instruments()}
    ttl = float(settings.EXCHANGE_INSTRUMENTS_TTL_SECONDS)
    get_redis().set(_redis_key(environment), _encode(found), ex=int(ttl * 2))
    with _lock:
        _local[environment] = (time.monotonic(), found)
    return found


def instruments_all(environment: str) -> dict[str, Instrument]:
    """All instruments of an environment, from the nearest fresh cache."""
    ttl = float(settings.EXCHANGE_INSTRUMENTS_TTL_SECONDS)
    hit = _local.get(environment)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        return hit[1]
    from tradingsvc.lib.redis import get_redis

    shared = get_redis().get(_redis_key(environment))
    if shared is not None:
        found = _decode(shared)
        with _lock:
            _local[environment] = (time.monotonic(), found)
        return found
    return instruments_refresh(environment)


def instrument_get(environment: str, symbol: str) -> Instrument:
    """One instrument's rules; an unknown symbol refreshes once, then raises ``KeyError``."""
    found = instruments_all(environment)
    if symbol not in found:
        found = instruments_refresh(environment)
    return found[symbol]


def instruments_forget() -> None:
    with _lock:
        _local.clear()


def quantize_price(instrument: Instrument, price: Decimal, *, side: str = "") -> Decimal:
    """Round to the tick: a buy rounds down and a sell up (never a worse price than asked)."""
    return instrument.quantize_price(price, ROUND_UP if side == "Sell" else ROUND_DOWN)


def quantize_qty(instrument: Instrument, qty: Decimal) -> Decimal:
    """Round down to the lot step (0 when below one step: check ``qty_problem`` before sending)."""
    return instrument.quantize_qty(qty, ROUND_DOWN)
