"""A record of every background run, so the operator sees failures in admin without another tool."""

from __future__ import annotations

from django.db import models


class TaskRun(models.Model):
    """One execution of a Celery task: what ran, with which arguments, how it ended and why.

    A redelivered task gets a second row with the same ``task_id`` (``redelivered`` set), which is how
    duplicate deliveries become visible. Arguments are stored with secrets redacted. Rows older than
    ``TASK_RUN_RETENTION_DAYS`` are pruned by ``ops.prune_task_runs``.
    """

    class Status(models.TextChoices):
        STARTED = "started", "Started"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        RETRYING = "retrying", "Retrying"
        LOST = "lost", "Lost (worker died or hard time limit)"

    task_id = models.CharField(max_length=64, db_index=True)
    task_name = models.CharField(max_length=200, db_index=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    worker = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)
    tenant_id = models.CharField(max_length=64, blank=True, db_index=True)
    bot_id = models.CharField(max_length=64, blank=True, db_index=True)
    retries = models.PositiveIntegerField(default=0)
    redelivered = models.BooleanField(default=False)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "started_at"])]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.status}] {self.started_at:%Y-%m-%d %H:%M:%S}"
