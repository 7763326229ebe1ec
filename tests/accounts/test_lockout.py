"""Failed sign-ins lock an account for a cool-off, not for good; the owner and the operators are
told once; a locked owner can still stop their bots with an emailed one-time, short-lived link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, EmergencyStopLink
from bots.models import KillSwitch
from tests.factories import TEST_PASSWORD, client_with_2fa, staff_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth's per-address limits live in the cache, which outlives a test."""
    from django.core.cache import cache

    cache.clear()


def _fail_until_locked(client: Client, email: str, attempts: int = 7) -> None:
    for _ in range(attempts):
        client.post("/accounts/login/", {"login": email, "password": "wrong password"})


def _link_from(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/emergency/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_a_lockout_lifts_by_itself_after_the_cool_off(settings):
    """Five failures lock the account; the right password is refused until the cool-off has
    passed, however often the attacker keeps trying, then it works again."""
    owner = client_with_2fa(email="locked@example.test")
    client = Client(REMOTE_ADDR="203.0.113.7")
    _fail_until_locked(client, owner.user.email)

    locked = client.post("/accounts/login/", {"login": owner.user.email, "password": TEST_PASSWORD})
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    with time_machine.travel(later):
        unlocked = client.post(
            "/accounts/login/", {"login": owner.user.email, "password": TEST_PASSWORD}
        )

    assert locked.status_code in (200, 403) and "_auth_user_id" not in client.session
    assert unlocked.status_code == 302, unlocked.content[:300]


def test_the_owner_and_the_operators_are_told_once_with_a_one_time_stop_link():
    """One notice each, however many refused attempts follow; the owner's has the link."""
    owner = client_with_2fa(email="alice@example.test")
    operator, _ = staff_with_role("operator", email="ops@example.test")
    client = Client(REMOTE_ADDR="203.0.113.7")

    _fail_until_locked(client, owner.user.email, attempts=9)

    to_owner = [m for m in mail.outbox if m.to == [owner.user.email]]
    to_operators = [m for m in mail.outbox if operator.email in m.to]
    assert len(to_owner) == 1 and len(to_operators) == 1
    assert "/emergency/" in to_owner[0].body and "/emergency/" not in to_operators[0].body
    assert AuditEvent.objects.filter(action="auth.locked_out", tenant=owner.tenant).exists()


def test_the_emailed_link_engages_the_emergency_stop_once():
    """GET only asks; the POST stops every bot of the tenant; the link then no longer works."""
    owner = client_with_2fa(email="bob@example.test")
    _fail_until_locked(Client(REMOTE_ADDR="203.0.113.7"), owner.user.email)
    path = _link_from(next(m.body for m in mail.outbox if m.to == [owner.user.email]))
    visitor = Client()

    asked = visitor.get(path)
    engaged_after_get = KillSwitch.objects.filter(tenant=owner.tenant, active=True).exists()
    used = visitor.post(path, {"flatten": "on"})
    again = visitor.post(path)

    assert asked.status_code == 200 and not engaged_after_get
    assert used.status_code == 200 and "Emergency stop engaged" in used.content.decode()
    switch = KillSwitch.objects.get(tenant=owner.tenant, active=True)
    assert switch.scope == KillSwitch.Scope.TENANT and switch.flatten
    assert again.status_code == 404
    assert KillSwitch.objects.filter(tenant=owner.tenant).count() == 1


def test_an_expired_link_does_nothing(settings):
    """After EMERGENCY_LINK_TTL_MINUTES the link is refused."""
    owner = client_with_2fa(email="carol@example.test")
    _fail_until_locked(Client(REMOTE_ADDR="203.0.113.7"), owner.user.email)
    path = _link_from(next(m.body for m in mail.outbox if m.to == [owner.user.email]))

    later = timezone.now() + timedelta(minutes=settings.EMERGENCY_LINK_TTL_MINUTES + 1)
    with time_machine.travel(later):
        response = Client().post(path)

    assert response.status_code == 404
    assert not KillSwitch.objects.filter(tenant=owner.tenant).exists()
    assert EmergencyStopLink.objects.get(tenant=owner.tenant).used_at is None
