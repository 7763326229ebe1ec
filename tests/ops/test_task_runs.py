"""Background runs go through the real Redis broker to a real worker and are recorded."""

from __future__ import annotations

import pytest
from django.test import Client

from ops.models import TaskRun
from ops.services import task_runs_prune
from tests.fixtures.celery_tasks import add, fail_with_secret
from tests.fixtures.celery_worker import wait_for

pytestmark = pytest.mark.slow


def _finished_run(task_name: str) -> TaskRun | None:
    return (
        TaskRun.objects.filter(task_name=task_name).exclude(status=TaskRun.Status.STARTED).first()
    )


def test_task_sent_through_redis_runs_in_worker_and_records_its_run(celery_worker):
    """A task published to Redis runs in the worker process and leaves a finished TaskRun row."""
    result = add.delay(2, 3, tenant_id="tenant-7", bot_id="bot-9")

    run = wait_for(lambda: _finished_run("tests.add"), message="a finished tests.add run")

    assert run.task_id == result.id
    assert run.status == TaskRun.Status.SUCCEEDED
    assert run.args == [2, 3]
    assert run.kwargs == {"tenant_id": "tenant-7", "bot_id": "bot-9"}
    assert (run.tenant_id, run.bot_id) == ("tenant-7", "bot-9")
    assert run.worker == celery_worker.hostname
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.duration_ms is not None


def test_failed_run_records_error_without_the_secret(celery_worker):
    """A failing task is recorded as failed with its error text; the secret is in neither args nor error."""
    planted = "PLANTED-api-secret-7f3a9c2e"
    fail_with_secret.delay(planted, tenant_id="tenant-1")

    run = wait_for(lambda: _finished_run("tests.fail_with_secret"), message="a failed run")

    assert run.status == TaskRun.Status.FAILED
    assert "RuntimeError: exchange refused the request" in run.error
    assert planted not in run.error
    assert planted not in str(run.args) + str(run.kwargs)
    assert planted not in celery_worker.log_text()


def test_correlation_id_follows_request_into_enqueued_task(celery_worker, settings):
    """The X-Request-ID of the request that enqueues a task is bound in the worker's log lines."""
    from django.urls import path

    from tradingsvc import urls as root_urls

    def enqueue(request):
        from django.http import HttpResponse

        add.delay(1, 1)
        return HttpResponse("queued")

    settings.ROOT_URLCONF = type(
        "Urls", (), {"urlpatterns": [*root_urls.urlpatterns, path("t/enqueue", enqueue)]}
    )
    response = Client().get("/t/enqueue", headers={"X-Request-ID": "req-corr-123456"})
    assert response["X-Request-ID"] == "req-corr-123456"

    run = wait_for(lambda: _finished_run("tests.add"), message="the enqueued run")
    assert run.correlation_id == "req-corr-123456"
    wait_for(
        lambda: '"correlation_id": "req-corr-123456"' in celery_worker.log_text(),
        message="log line",
    )


@pytest.mark.django_db
def test_prune_deletes_old_runs_and_marks_unfinished_as_lost(settings):
    """Old rows are deleted; a run that never finished long after the time limit is marked lost."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    settings.TASK_RUN_RETENTION_DAYS = 30
    old = TaskRun.objects.create(task_id="a", task_name="x", started_at=now - timedelta(days=31))
    stuck = TaskRun.objects.create(task_id="b", task_name="x", started_at=now - timedelta(hours=1))
    fresh = TaskRun.objects.create(task_id="c", task_name="x", started_at=now)

    assert task_runs_prune(now=now) == {"deleted": 1, "marked_lost": 1}
    assert not TaskRun.objects.filter(pk=old.pk).exists()
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == TaskRun.Status.LOST
    assert fresh.status == TaskRun.Status.STARTED
