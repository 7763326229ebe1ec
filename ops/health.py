"""The checks behind ``/healthz``: database, Redis, a live Celery worker, the channel layer.

Each check is independent and bounded in time, and reports its own state, so one broken part never
hides the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from ops.heartbeat import live_workers
from tradingsvc.lib.redis import get_redis


@dataclass(frozen=True)
class CheckResult:
    """The state of one dependency."""

    ok: bool
    detail: str
    latency_ms: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _timed(check: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return CheckResult(
        ok=ok, detail=detail, latency_ms=round((time.perf_counter() - started) * 1000, 2)
    )


def check_database() -> CheckResult:
    def run() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor

    return _timed(run)


def check_redis() -> CheckResult:
    def run() -> str:
        get_redis().ping()
        return "pong"

    return _timed(run)


def check_worker() -> CheckResult:
    def run() -> str:
        workers = live_workers()
        if not workers:
            raise RuntimeError(
                f"no Celery worker heartbeat in the last {settings.WORKER_HEARTBEAT_TTL_SECONDS:g} s"
            )
        return f"{len(workers)} live: " + ", ".join(sorted(workers))

    return _timed(run)


async def _channel_round_trip(timeout: float) -> str:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=timeout)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("unexpected message from the channel layer")
    return type(layer).__name__


def check_channel_layer() -> CheckResult:
    def run() -> str:
        return async_to_sync(_channel_round_trip)(settings.HEALTHZ_TIMEOUT_SECONDS)

    return _timed(run)


HEALTH_CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "redis": check_redis,
    "worker": check_worker,
    "channel_layer": check_channel_layer,
}


def run_health_checks() -> dict[str, CheckResult]:
    """Run every check; the service is healthy only when all of them are."""
    return {name: check() for name, check in HEALTH_CHECKS.items()}
