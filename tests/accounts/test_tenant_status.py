"""The operator suspends a tenant from admin: audited, and its members still reach their pages."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, Tenant
from accounts.selectors import memberships_for_user
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db


def test_suspending_from_admin_is_audited_and_members_keep_their_account(operator, operator_client):
    """Suspend: status and audit event; the member's membership still counts for sign-in."""
    member = client_with_2fa()
    client = operator_client

    response = client.post(
        "/admin/accounts/tenant/",
        {"action": "suspend", "_selected_action": [str(member.tenant.pk)]},
    )

    assert response.status_code == 302
    member.tenant.refresh_from_db()
    assert member.tenant.status == Tenant.Status.SUSPENDED and not member.tenant.trades
    event = AuditEvent.objects.get(action="tenant.suspended")
    assert event.actor == operator and event.after == {"status": "suspended"}
    assert list(memberships_for_user(member.user)) == [member]
