"""Writes for background-run records. Called from Celery signal handlers and the pruning task."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from ops.models import TaskRun
from tradingsvc.lib.redaction import REDACTED, is_secret_key, redact, redact_text

MAX_ERROR_CHARS = 8000


def _json_safe(value: Any) -> Any:
    """Arguments as JSON: tasks take ids and plain values; anything else is stored as its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return repr(value)


def _redact_positional(args: list[Any], param_names: list[str]) -> list[Any]:
    """Positional arguments redacted by the name of the parameter each one fills."""
    return [
        REDACTED if i < len(param_names) and is_secret_key(param_names[i]) else value
        for i, value in enumerate(args)
    ]


def task_run_start(
    *,
    task_id: str,
    task_name: str,
    args: Any,
    kwargs: Any,
    param_names: list[str],
    worker: str,
    correlation_id: str,
    retries: int,
    redelivered: bool,
) -> TaskRun:
    """Record that a task started, with its arguments' secrets redacted."""
    kwargs = kwargs or {}
    return TaskRun.objects.create(
        task_id=task_id,
        task_name=task_name,
        args=redact(_json_safe(_redact_positional(list(args or []), param_names))),
        kwargs=redact(_json_safe(dict(kwargs))),
        worker=worker,
        correlation_id=correlation_id,
        tenant_id=str(kwargs.get("tenant_id") or ""),
        bot_id=str(kwargs.get("bot_id") or ""),
        retries=retries,
        redelivered=redelivered,
        started_at=timezone.now(),
    )


def task_run_finish(
    *, run_id: int, started_at: datetime, status: TaskRun.Status, error: str = ""
) -> None:
    """Record how a run ended; the error text is redacted and truncated."""
    finished_at = timezone.now()
    TaskRun.objects.filter(pk=run_id).update(
        status=status,
        finished_at=finished_at,
        duration_ms=max(0, int((finished_at - started_at).total_seconds() * 1000)),
        error=redact_text(error)[:MAX_ERROR_CHARS],
    )


def task_runs_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete runs past the retention period and mark runs that never finished as lost.

    A run still ``started`` long after the hard time limit was ended by a dead worker or by the
    time limit itself (neither sends a finish signal).
    """
    now = now or timezone.now()
    retention = now - timedelta(days=settings.TASK_RUN_RETENTION_DAYS)
    deleted, _ = TaskRun.objects.filter(started_at__lt=retention).delete()
    stale = now - timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    lost = TaskRun.objects.filter(status=TaskRun.Status.STARTED, started_at__lt=stale).update(
        status=TaskRun.Status.LOST,
        error="No finish was recorded: the worker died or hit the hard time limit.",
    )
    return {"deleted": deleted, "marked_lost": lost}
