"""The beat scheduler, guarded so that exactly one runs per database.

django-celery-beat's ``DatabaseScheduler`` has no lock of its own, and two schedulers double every
periodic task. ``LockedDatabaseScheduler`` takes a PostgreSQL advisory lock (a file lock on SQLite)
before scheduling anything; a second beat started anywhere waits as a hot standby and takes over
within seconds when the first one dies.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from tradingsvc.lib.locks import FileLock, PostgresAdvisoryLock, postgres_conninfo

log = structlog.stdlib.get_logger(__name__)

BEAT_LOCK_NAME = "tradingsvc:celery-beat"
STANDBY_POLL_SECONDS = 5.0


def beat_lock() -> PostgresAdvisoryLock | FileLock:
    """The lock object for this deployment's database (not yet acquired)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        return PostgresAdvisoryLock(postgres_conninfo(database), BEAT_LOCK_NAME)
    return FileLock(settings.BEAT_LOCK_FILE)


class LockedDatabaseScheduler(DatabaseScheduler):  # type: ignore[misc]
    """``DatabaseScheduler`` that schedules only while it holds the beat lock.

    Standby is a non-blocking check in :meth:`tick`, not a wait in ``__init__``: Celery builds the
    scheduler more than once and its SIGTERM handler touches it, so a blocking wait there would
    lock a beat out of its own lock and make it deaf to shutdown.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._beat_lock = beat_lock()
        self._holds_lock = False
        self._announced_standby = False
        super().__init__(*args, **kwargs)

    def _has_lock(self) -> bool:
        if self._holds_lock:
            return True
        if self._beat_lock.try_acquire():
            self._holds_lock = True
            # Re-read the schedule from the database: a standby's copy may be hours old.
            self._initial_read = True
            self._heap = None
            log.info("beat.lock_acquired", lock=BEAT_LOCK_NAME)
            return True
        if not self._announced_standby:
            log.warning("beat.standby", reason="another beat scheduler holds the lock")
            self._announced_standby = True
        return False

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._has_lock():
            return STANDBY_POLL_SECONDS
        return float(super().tick(*args, **kwargs))

    def sync(self) -> None:
        # A standby must not write last_run_at over the active scheduler's.
        if self._holds_lock:
            super().sync()

    def close(self) -> None:
        try:
            super().close()
        finally:
            # Also closes a standby's lock connection; unlocking a lock not held is harmless.
            self._beat_lock.release()
            self._holds_lock = False
