"""Shared test setup: real PostgreSQL (pytest-django), real Redis, fixtures from ``tests/fixtures``."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop on the main thread; the ORM calls made beside it in
# browser tests are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.celery_worker",
    "tests.fixtures.browser",
    "tests.fixtures.simulator",
    "tests.fixtures.sentry_ingest",
]


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis() -> None:
    """Start every run on an empty test Redis database (never the demo's or production's)."""
    from django.conf import settings

    from tradingsvc.lib.redis import get_redis

    assert not settings.REDIS_URL.rstrip("/").endswith(("/0", ":6379")), (
        "tests flush their Redis database: point REDIS_URL at a test database (15 by default)"
    )
    get_redis().flushdb()
