"""The server-time offset: how far Bybit's clock is from ours, measured and applied to signatures.

Bybit rejects a signed request whose timestamp is not within
``server_time - recv_window <= timestamp < server_time + 1000`` (retCode 10002), so a clock only a
second fast fails every call. pybit signs with the local clock and has no offset logic, so the
client asks :func:`offset_ms` for each signature. The offset is measured with ``/v5/market/time``
(half the round trip taken as the one-way delay), kept in-process and in Redis for all processes,
and re-measured when it is older than ``EXCHANGE_CLOCK_TTL_SECONDS`` or after a 10002.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

log = structlog.stdlib.get_logger(__name__)


@dataclass
class _Offset:
    offset_ms: int
    measured_at: float  # monotonic


_offsets: dict[str, _Offset] = {}
_lock = threading.Lock()


def _ttl() -> float:
    from django.conf import settings

    return float(settings.EXCHANGE_CLOCK_TTL_SECONDS)


def measure(key: str, server_time_ms: Callable[[], int]) -> int:
    """Measure the offset (server minus local, in ms) for ``key`` (a base URL) and store it."""
    t0 = time.time() * 1000
    server = server_time_ms()
    t1 = time.time() * 1000
    offset = int(server - (t0 + t1) / 2)
    with _lock:
        _offsets[key] = _Offset(offset, time.monotonic())
    try:
        from tradingsvc.lib.redis import get_redis

        get_redis().set(f"xclock:{key}", offset, ex=max(int(_ttl()), 1))
    except Exception:  # Redis down must not stop signing; the in-process value is enough.
        log.warning("exchange.clock_offset_not_shared", exc_info=True)
    if abs(offset) > 500:
        log.warning("exchange.clock_drift", base_url=key, offset_ms=offset)
    return offset


def offset_ms(key: str, server_time_ms: Callable[[], int] | None) -> int:
    """The current offset for ``key``; measures it when unknown or stale (if a probe is given)."""
    entry = _offsets.get(key)
    if entry is not None and time.monotonic() - entry.measured_at < _ttl():
        return entry.offset_ms
    try:
        from tradingsvc.lib.redis import get_redis

        shared = get_redis().get(f"xclock:{key}")
    except Exception:
        shared = None
    if shared is not None:
        value = int(shared)
        with _lock:
            _offsets[key] = _Offset(value, time.monotonic())
        return value
    if server_time_ms is None:
        return entry.offset_ms if entry else 0
    return measure(key, server_time_ms)


def forget(key: str) -> None:
    """Drop the offset so the next signature re-measures (after a 10002)."""
    with _lock:
        _offsets.pop(key, None)
    try:
        from tradingsvc.lib.redis import get_redis

        get_redis().delete(f"xclock:{key}")
    except Exception:
        log.warning("exchange.clock_offset_not_shared", exc_info=True)
