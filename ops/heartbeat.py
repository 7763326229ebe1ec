"""Worker heartbeats in Redis, so ``/healthz`` can tell whether any Celery worker is alive.

Each worker's main process writes ``hostname -> unix time`` into one sorted set every few seconds;
a worker counts as alive while its last beat is younger than the TTL. A worker that stops cleanly
removes itself at once; one that is killed simply ages out.
"""

from __future__ import annotations

import threading
import time

import structlog
from django.conf import settings

from tradingsvc.lib.redis import get_redis

log = structlog.stdlib.get_logger(__name__)

WORKERS_KEY = "tradingsvc:workers:heartbeat"


def heartbeat_beat(hostname: str) -> None:
    """Record one heartbeat for ``hostname`` now."""
    get_redis().zadd(WORKERS_KEY, {hostname: time.time()})


def heartbeat_remove(hostname: str) -> None:
    """Forget ``hostname`` (clean shutdown)."""
    get_redis().zrem(WORKERS_KEY, hostname)


def live_workers(ttl_seconds: float | None = None) -> list[str]:
    """Hostnames whose last heartbeat is younger than the TTL; also drops long-dead entries."""
    ttl = settings.WORKER_HEARTBEAT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    now = time.time()
    client = get_redis()
    client.zremrangebyscore(WORKERS_KEY, "-inf", now - 24 * 3600)
    members = client.zrangebyscore(WORKERS_KEY, now - ttl, "+inf")
    return [m.decode() if isinstance(m, bytes) else str(m) for m in members]


class HeartbeatThread(threading.Thread):
    """Beats every ``WORKER_HEARTBEAT_INTERVAL_SECONDS`` until stopped."""

    def __init__(self, hostname: str) -> None:
        super().__init__(name=f"heartbeat-{hostname}", daemon=True)
        self.hostname = hostname
        self._stop_event = threading.Event()

    def run(self) -> None:
        interval = settings.WORKER_HEARTBEAT_INTERVAL_SECONDS
        while not self._stop_event.is_set():
            try:
                heartbeat_beat(self.hostname)
            except Exception:  # Redis down: /healthz reports it; keep trying.
                log.warning("worker.heartbeat_failed", worker=self.hostname, exc_info=True)
            self._stop_event.wait(interval)

    def stop(self) -> None:
        self._stop_event.set()
        try:
            heartbeat_remove(self.hostname)
        except Exception:
            log.warning("worker.heartbeat_remove_failed", worker=self.hostname, exc_info=True)
