"""Thin Celery tasks for operations; the work is in ``ops.services``."""

from celery import shared_task


@shared_task(name="ops.prune_task_runs")
def prune_task_runs() -> dict[str, int]:
    """Scheduled by beat: keeps the run table bounded."""
    from ops.services import task_runs_prune

    return task_runs_prune()
