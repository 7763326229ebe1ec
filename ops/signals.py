"""Celery signal handlers: log context for every task, a ``TaskRun`` row for every run, heartbeats.

The correlation id of the request (or task) that enqueues a task travels in the message headers;
the worker binds it, with ``tenant_id`` and ``bot_id`` taken from the task's keyword arguments, so
every log line the task writes carries them. Tasks that keep their own run record (per-bot ticks
fence themselves with a ``BotTick`` row) set ``track_runs = False`` to skip the ``TaskRun`` row.
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import structlog
from celery import signals
from django.db import close_old_connections
from django.utils import timezone

from ops.heartbeat import HeartbeatThread
from ops.models import TaskRun

log = structlog.stdlib.get_logger(__name__)

# task_id -> (run pk, started_at); each worker child runs one task at a time.
_active_runs: dict[str, tuple[int, Any]] = {}
_errors: dict[str, str] = {}
_heartbeat: HeartbeatThread | None = None

# Celery uses the message property ``correlation_id`` for the task id, so ours has its own name.
CORRELATION_HEADER = "tradingsvc_correlation_id"


def _parameter_names(task: Any) -> list[str]:
    """The names of the task function's parameters, to redact positional secrets by name."""
    try:
        return list(inspect.signature(task.run).parameters)
    except (TypeError, ValueError):
        return []


@signals.before_task_publish.connect
def add_correlation_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Copy the current correlation id into the outgoing task's headers."""
    if headers is None:
        return
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
    if correlation_id:
        headers.setdefault(CORRELATION_HEADER, correlation_id)


@signals.task_prerun.connect
def on_task_prerun(
    task_id: str | None = None,
    task: Any = None,
    args: Any = None,
    kwargs: Any = None,
    **_: Any,
) -> None:
    """Bind log context and record the start of the run."""
    if task is None or task_id is None:
        return
    kwargs = kwargs or {}
    request = task.request
    correlation_id = getattr(request, CORRELATION_HEADER, None) or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    context = {"correlation_id": correlation_id, "task_id": task_id, "task_name": task.name}
    for field in ("tenant_id", "bot_id"):
        if kwargs.get(field) is not None:
            context[field] = str(kwargs[field])
    structlog.contextvars.bind_contextvars(**context)
    if not getattr(task, "track_runs", True):
        return
    from ops.services import task_run_start

    delivery_info = getattr(request, "delivery_info", None) or {}
    try:
        close_old_connections()
        run = task_run_start(
            task_id=task_id,
            task_name=task.name,
            args=args,
            kwargs=kwargs,
            param_names=_parameter_names(task),
            worker=str(getattr(request, "hostname", "") or ""),
            correlation_id=correlation_id,
            retries=int(getattr(request, "retries", 0) or 0),
            redelivered=bool(delivery_info.get("redelivered")),
        )
    except Exception:
        # Recording must never stop the work itself.
        log.exception("task_run.record_start_failed")
        return
    _active_runs[task_id] = (run.pk, run.started_at)


@signals.task_failure.connect
def on_task_failure(
    task_id: str | None = None, exception: BaseException | None = None, **_: Any
) -> None:
    """Keep the error text for the finish record (sent before ``task_postrun``)."""
    if task_id is not None and exception is not None:
        _errors[task_id] = f"{type(exception).__name__}: {exception}"


_STATE_TO_STATUS = {
    "SUCCESS": TaskRun.Status.SUCCEEDED,
    "FAILURE": TaskRun.Status.FAILED,
    "RETRY": TaskRun.Status.RETRYING,
}


@signals.task_postrun.connect
def on_task_postrun(task_id: str | None = None, state: str | None = None, **_: Any) -> None:
    """Record how the run ended and drop the log context."""
    if task_id is None:
        return
    error = _errors.pop(task_id, "")
    active = _active_runs.pop(task_id, None)
    try:
        if active is not None:
            from ops.services import task_run_finish

            run_id, started_at = active
            status = _STATE_TO_STATUS.get(state or "", TaskRun.Status.FAILED)
            task_run_finish(run_id=run_id, started_at=started_at, status=status, error=error)
    except Exception:
        log.exception("task_run.record_finish_failed")
    finally:
        structlog.contextvars.clear_contextvars()


@signals.worker_ready.connect
def start_heartbeat(sender: Any = None, **_: Any) -> None:
    """Start beating as soon as the worker can take tasks."""
    global _heartbeat
    hostname = getattr(sender, "hostname", None) or "unknown"
    _heartbeat = HeartbeatThread(hostname)
    _heartbeat.start()
    log.info("worker.ready", worker=hostname, at=timezone.now().isoformat())


@signals.worker_shutdown.connect
def stop_heartbeat(**_: Any) -> None:
    """A clean shutdown leaves the live set at once, so health turns red without waiting."""
    if _heartbeat is not None:
        _heartbeat.stop()
