"""Exactly one beat scheduler schedules per database."""

from __future__ import annotations

import pytest

from tradingsvc.beat import beat_lock
from tradingsvc.lib.locks import FileLock


@pytest.mark.django_db
def test_second_scheduler_cannot_take_the_postgres_beat_lock():
    """The advisory lock is exclusive across connections, and free again after release."""
    first, second = beat_lock(), beat_lock()
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        first.release()
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()


def test_file_lock_is_exclusive_between_holders(tmp_path):
    """The SQLite demo's file lock behaves the same way."""
    first, second = FileLock(tmp_path / "beat.lock"), FileLock(tmp_path / "beat.lock")
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    first.release()
    first.release()  # idempotent
    assert second.try_acquire() is True
    second.release()


@pytest.mark.django_db(transaction=True)
def test_standby_scheduler_does_not_schedule_until_it_holds_the_lock():
    """A scheduler that cannot get the lock ticks as a standby (no tasks sent), then takes over."""
    from datetime import timedelta

    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from tradingsvc.beat import STANDBY_POLL_SECONDS, LockedDatabaseScheduler
    from tradingsvc.celery import app

    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="probe",
        task="tests.add",
        interval=every_second,
        args="[1, 2]",
        last_run_at=timezone.now() - timedelta(minutes=5),
    )
    holder = beat_lock()
    assert holder.try_acquire()
    sent: list[str] = []

    class RecordingScheduler(LockedDatabaseScheduler):
        def apply_async(self, entry, *args, **kwargs):
            sent.append(entry.task)

    scheduler = RecordingScheduler(app=app, lazy=False)
    try:
        assert scheduler.tick() == STANDBY_POLL_SECONDS
        assert sent == []
        holder.release()
        scheduler.tick()
        assert scheduler._holds_lock is True
        assert "tests.add" in sent  # overdue, so sent on the first tick that holds the lock
    finally:
        scheduler.close()
        holder.release()
