"""The audit trail records who did what, from where, and cannot be changed through the app."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from accounts.models.audit import AuditTrailIsAppendOnly
from accounts.services.audit import audit_record
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db


def test_audit_rows_cannot_be_updated_or_deleted():
    event = audit_record(action="test.event", before={"a": 1}, after={"a": 2})
    event.action = "changed"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_secrets_in_before_after_are_redacted():
    event = audit_record(
        action="key.changed", after={"api_secret": "s3cr3t-value-xyz", "label": "main"}
    )
    assert event.after == {"api_secret": "[redacted]", "label": "main"}


def test_login_and_failed_login_are_audited_with_ip_and_user_agent():
    membership = client_with_2fa()
    client = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="probe-agent/1.0")
    client.post("/accounts/login/", {"login": membership.user.email, "password": "wrong"})
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor_email == membership.user.email
    assert failed.ip == "203.0.113.9" and failed.user_agent == "probe-agent/1.0"
    assert failed.tenant == membership.tenant
    client.force_login(membership.user)
    assert AuditEvent.objects.filter(action="auth.login", actor=membership.user).exists()


def test_owner_sees_only_their_tenants_events():
    mine, theirs = client_with_2fa(), client_with_2fa()
    audit_record(
        action="bot.started", tenant=mine.tenant, actor=mine.user, after={"bot": "mine-bot"}
    )
    audit_record(
        action="bot.started", tenant=theirs.tenant, actor=theirs.user, after={"bot": "their-bot"}
    )
    client = Client()
    client.force_login(mine.user)
    page = client.get("/app/activity/").content.decode()
    assert mine.user.email in page
    assert theirs.user.email not in page


def test_admin_actions_land_in_the_audit_trail(operator, operator_client):
    target = client_with_2fa()
    client = operator_client
    response = client.post(
        "/admin/accounts/tenant/",
        {"action": "disable", "_selected_action": [str(target.tenant.pk)]},
    )
    assert response.status_code == 302
    target.tenant.refresh_from_db()
    assert target.tenant.status == "disabled"
    event = AuditEvent.objects.get(action="tenant.disabled")
    assert event.actor == operator and event.is_staff_action
