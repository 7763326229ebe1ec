"""/healthz reports each dependency and is 200 only when all are up."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.fixtures.celery_worker import wait_for

pytestmark = pytest.mark.slow


def _staff_client() -> Client:
    """Verified staff (admin login with the second factor): they see each check's detail."""
    from tests.factories import admin_login, operator_with_otp

    client = Client()
    admin_login(client, *operator_with_otp())
    return client


def test_healthz_is_ok_with_a_live_worker_and_fails_when_the_worker_is_gone(celery_worker):
    """With a worker: 200 and every check ok. After the worker stops: 503 naming the worker."""
    client = _staff_client()
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker", "channel_layer"}
    assert all(check["ok"] for check in body["checks"].values())
    assert celery_worker.hostname in body["checks"]["worker"]["detail"]

    celery_worker.stop()

    response = wait_for(
        lambda: (r := client.get("/healthz")).status_code == 503 and r, message="healthz to fail"
    )
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["worker"]["ok"] is False
    assert "no Celery worker heartbeat" in body["checks"]["worker"]["detail"]
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


def test_killed_worker_ages_out_of_the_heartbeat(celery_worker, settings):
    """A worker killed with SIGKILL (no clean shutdown) stops counting once its heartbeat is stale."""
    import os
    import signal

    from ops.heartbeat import live_workers

    os.killpg(celery_worker.process.pid, signal.SIGKILL)
    celery_worker.process.wait()
    wait_for(
        lambda: celery_worker.hostname not in live_workers(),
        timeout=settings.WORKER_HEARTBEAT_TTL_SECONDS + 5,
        message="the killed worker to age out",
    )


@pytest.mark.django_db
def test_healthz_reports_redis_down_by_name(settings):
    """Pointed at a Redis that does not answer, the redis check fails and says why."""
    from tradingsvc.lib.redis import get_redis

    client = _staff_client()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    get_redis.cache_clear()
    try:
        body = client.get("/healthz").json()
    finally:
        get_redis.cache_clear()
    assert body["status"] == "fail"
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_the_public_healthz_shows_no_host_name_or_error_text(settings):
    """Anyone gets each check's state; the failure's text (hosts, ports, exception) is staff's."""
    from tradingsvc.lib.redis import get_redis

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    get_redis.cache_clear()
    try:
        response = Client().get("/healthz")
    finally:
        get_redis.cache_clear()

    body = response.json()
    assert response.status_code == 503 and body["checks"]["redis"]["ok"] is False
    assert all(set(check) == {"ok", "latency_ms"} for check in body["checks"].values())
    assert "127.0.0.1" not in response.content.decode() and "Error" not in response.content.decode()
