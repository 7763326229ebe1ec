"""Shared test setup: real PostgreSQL (pytest-django), real Redis, fixtures from ``tests/fixtures``."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

# Playwright's sync API runs an event loop on the main thread; the ORM calls made beside it in
# browser tests are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.celery_worker",
    "tests.fixtures.browser",
    "tests.fixtures.simulator",
    "tests.fixtures.sentry_ingest",
    "tests.fixtures.live_stack",
    "tests.fixtures.secret_scan",
    "tests.fixtures.webhook_receiver",
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


@pytest.fixture(autouse=True)
def risk_templates(request):
    """The seeded risk templates, even after a transactional test flushed them: the migration's
    seed is re-run (idempotent) for every test with database access."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from django.apps import apps

    importlib.import_module("bots.migrations.0002_seed_risk_templates").seed(apps, None)
    importlib.import_module("bots.migrations.0006_template_param_bounds").add_bounds(apps, None)


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """LocaleMiddleware leaves a request's language active in the thread: a Portuguese request
    must not turn the next test's messages Portuguese."""
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _no_candle_locks_left_over() -> Iterator[None]:
    """A test whose worker or stream died mid-sync leaves the pair's candle-sync lock (50 s) and
    request marks in Redis; the next test's syncs would be skipped meanwhile. Each test starts
    without them (every test's database is new, so their state would be stale anyway)."""
    from tradingsvc.lib.redis import get_redis

    redis = get_redis()
    stale = list(redis.scan_iter("xcandles:*"))
    if stale:
        redis.delete(*stale)
    yield
