"""Shared test setup: real PostgreSQL (pytest-django), real Redis, fixtures from ``tests/fixtures``,
and the fixed cast of users every test module takes its people from.

The cast (healthchecks' alice, bob and charlie; each a fixture, made when a test asks for it):
- ``owner``: Alice, owner of tenant A, TOTP enrolled as every client must be;
- ``viewer``: Bob, viewer of tenant A;
- ``other_owner``: Charlie, owner of tenant B, who must see none of tenant A;
- ``operator``: Oscar, staff in the operator group (not a superuser), with an admin TOTP device
  (``operator_and_secret`` gives the device's secret too).
``owner_client``, ``viewer_client`` and ``operator_client`` are Django test clients signed in as
them through the real sign-in forms (password then TOTP; the admin's form with its code).
Helpers and fixtures shared by several modules live here or in ``tests/fixtures`` and
``tests/factories.py``, never in a test module that another imports.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import pytest

if TYPE_CHECKING:
    from django.test import Client

    from accounts.models import Membership, User

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
    "tests.fixtures.world",
]


@pytest.fixture
def owner() -> Membership:
    """Alice: owner of tenant A."""
    from tests.factories import client_with_2fa

    return cast("Membership", client_with_2fa("owner", email="alice@a.example.test"))


@pytest.fixture
def viewer(owner: Membership) -> Membership:
    """Bob: viewer of tenant A (reads, never writes)."""
    from tests.factories import client_with_2fa

    return cast(
        "Membership", client_with_2fa("viewer", tenant=owner.tenant, email="bob@a.example.test")
    )


@pytest.fixture
def other_owner() -> Membership:
    """Charlie: owner of tenant B; every object of tenant A is a 404 to him."""
    from tests.factories import client_with_2fa

    return cast("Membership", client_with_2fa("owner", email="charlie@b.example.test"))


@pytest.fixture
def operator_and_secret() -> tuple[User, str]:
    """Oscar and the base32 secret of his admin TOTP device (for a test that signs in itself)."""
    from tests.factories import staff_with_role

    return cast("tuple[User, str]", staff_with_role("operator", email="oscar@staff.example.test"))


@pytest.fixture
def operator(operator_and_secret: tuple[User, str]) -> User:
    """Oscar: staff with the operator role's powers (not a superuser), admin TOTP enrolled."""
    return operator_and_secret[0]


def _fresh_login_budget() -> None:
    """Every test client signs in from 127.0.0.1, which shares allauth's per-IP login budget
    (``ACCOUNT_RATE_LIMITS``) with all earlier tests' sign-ins: the cast starts each test's
    sign-in on a budget of its own, so an earlier walk's logins never turn it into a 429."""
    from allauth.core.ratelimit import clear
    from django.test import RequestFactory

    clear(RequestFactory().post("/"), action="login")


@pytest.fixture
def owner_client(owner: Membership) -> Client:
    """A client signed in as the owner (password, then TOTP)."""
    from django.test import Client

    from tests.factories import login_with_2fa

    _fresh_login_budget()
    client = Client()
    login_with_2fa(client, owner)
    return client


@pytest.fixture
def viewer_client(viewer: Membership) -> Client:
    """A client signed in as the viewer (password, then TOTP)."""
    from django.test import Client

    from tests.factories import login_with_2fa

    _fresh_login_budget()
    client = Client()
    login_with_2fa(client, viewer)
    return client


@pytest.fixture
def operator_client(operator_and_secret: tuple[User, str]) -> Client:
    """A client signed into the admin as the operator (email, password and code)."""
    from django.test import Client

    from tests.factories import admin_login

    _fresh_login_budget()
    client = Client()
    admin_login(client, *operator_and_secret)
    return client


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
