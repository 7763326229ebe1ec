"""Staff are limited to their role: support reads and runs nothing, every admin action declares the
permission it needs, admin edits cannot bypass the services and reach the client's audit trail, and
no staff member can read a client's session key.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.admin import helpers
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import AuditEvent, OperatorTOTPDevice, Tenant, User
from accounts.services.invitations import invitation_create_viewer
from bots.models import Bot, RiskTemplate
from bots.services.tuning import bot_create
from tests.factories import (
    ExchangeConnectionFactory,
    StaffUserFactory,
    admin_login,
    client_with_2fa,
    login_with_2fa,
    staff_with_role,
)

pytestmark = pytest.mark.django_db


def _actions_of(model_admin: Any) -> list[tuple[str, object]]:
    """Every action the admin offers on a model (its own and the site-wide ones), by name."""
    request = RequestFactory().get("/admin/")
    request.user = cast(User, StaffUserFactory())
    return [(name, func) for name, (func, _n, _d) in model_admin.get_actions(request).items()]


def test_every_admin_action_declares_the_permission_it_needs():
    """No action is open to whoever can see the list: each names a permission (ours explicitly,
    the libraries' ones closed to the change permission by the admin site)."""
    undeclared = [
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        for name, func in _actions_of(model_admin)
        if not getattr(func, "allowed_permissions", None)
    ]

    assert undeclared == []


def test_support_staff_are_offered_no_action_anywhere():
    """A view-only staff member sees every list but no action on any of them."""
    support, _ = staff_with_role("support")
    request = RequestFactory().get("/admin/")
    request.user = support

    offered = {
        model._meta.label: list(model_admin.get_actions(request))
        for model, model_admin in admin.site._registry.items()
    }

    assert {label: names for label, names in offered.items() if names} == {}


def test_support_cannot_enrol_the_superuser_in_admin_two_factor():
    """The enrol action posted by support is refused: no new device, no secret on the page."""
    superuser = StaffUserFactory(email="root@example.test")
    support, secret = staff_with_role("support")
    staff = Client()
    admin_login(staff, support, secret)

    response = staff.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "enrol_operator_totp", helpers.ACTION_CHECKBOX_NAME: [superuser.pk]},
        follow=True,
    )

    assert not OperatorTOTPDevice.objects.filter(user=superuser).exists()
    assert "add this key to an authenticator app" not in response.content.decode()


def test_an_operator_who_is_not_a_superuser_cannot_take_over_a_superusers_second_factor():
    """Enrolling is taking over the second factor: only a superuser may enrol a superuser."""
    superuser = StaffUserFactory(email="root@example.test")
    operator, secret = staff_with_role("operator")
    staff = Client()
    admin_login(staff, operator, secret)

    staff.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "enrol_operator_totp", helpers.ACTION_CHECKBOX_NAME: [superuser.pk]},
    )

    assert not OperatorTOTPDevice.objects.filter(user=superuser).exists()


def test_support_cannot_disable_a_tenant_but_an_operator_can_and_the_client_sees_it():
    """The tenant action needs the change permission; the operator's use of it is in the
    client's own audit trail."""
    owner = client_with_2fa()
    support, support_secret = staff_with_role("support")
    operator, operator_secret = staff_with_role("operator")
    form = {"action": "disable", helpers.ACTION_CHECKBOX_NAME: [owner.tenant.pk]}
    as_support, as_operator = Client(), Client()
    admin_login(as_support, support, support_secret)
    admin_login(as_operator, operator, operator_secret)

    as_support.post(reverse("admin:accounts_tenant_changelist"), form)
    after_support = Tenant.objects.get(pk=owner.tenant.pk).status
    as_operator.post(reverse("admin:accounts_tenant_changelist"), form)

    assert after_support == Tenant.Status.ACTIVE
    assert Tenant.objects.get(pk=owner.tenant.pk).status == Tenant.Status.DISABLED
    event = AuditEvent.objects.get(action="tenant.disabled")
    assert event.tenant_id == owner.tenant.pk and event.is_staff_action


def test_support_cannot_save_any_change_form():
    """A view-only staff member gets the page read-only and a 403 on a save."""
    owner = client_with_2fa()
    support, secret = staff_with_role("support")
    staff = Client()
    admin_login(staff, support, secret)
    url = reverse("admin:accounts_tenant_change", args=[owner.tenant.pk])

    page = staff.get(url)
    saved = staff.post(url, {"name": "Renamed by support"})

    assert page.status_code == 200
    assert saved.status_code == 403
    assert Tenant.objects.get(pk=owner.tenant.pk).name != "Renamed by support"


def test_an_admin_edit_cannot_move_a_bot_onto_another_tenants_key():
    """The bot's change form is read-only: keys, limits and tenant change through the services."""
    owner = client_with_2fa()
    other = client_with_2fa()
    foreign_key = ExchangeConnectionFactory.create(tenant=other.tenant, api_key_last4="BBBB")
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="A bot",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    operator, secret = staff_with_role("operator")
    staff = Client()
    admin_login(staff, operator, secret)

    staff.post(
        reverse("admin:bots_bot_change", args=[bot.pk]),
        {"connection": foreign_key.pk, "tenant": other.tenant.pk, "name": bot.name},
    )

    bot = Bot.objects.get(pk=bot.pk)
    assert bot.connection_id is None and bot.tenant_id == owner.tenant.pk


def test_an_admin_change_lands_in_the_clients_audit_trail():
    """A plain admin edit (Django's LogEntry) is recorded against the tenant it touched and shows
    on the client's activity page."""
    owner = client_with_2fa()
    invitation = invitation_create_viewer(
        tenant=owner.tenant, email="pending@example.test", invited_by=owner.user
    ).invitation
    operator, secret = staff_with_role("operator")
    staff = Client()
    admin_login(staff, operator, secret)

    staff.post(reverse("admin:accounts_invitation_delete", args=[invitation.pk]), {"post": "yes"})
    client = Client()
    login_with_2fa(client, owner)
    page = client.get(reverse("portal:audit")).content.decode()

    assert AuditEvent.objects.filter(action="admin.deleted", tenant=owner.tenant).exists()
    assert "Deleted by our operators" in page


def test_no_staff_member_sees_a_clients_session_key(owner, owner_client):
    """allauth's user-session admin lists sessions without their keys, even to an operator."""
    session = UserSession.objects.get(user=owner.user)
    operator, secret = staff_with_role("operator")
    staff = Client()
    admin_login(staff, operator, secret)

    pages = [
        staff.get(reverse("admin:usersessions_usersession_changelist")),
        staff.get(reverse("admin:usersessions_usersession_change", args=[session.pk])),
    ]

    assert all(page.status_code == 200 for page in pages)
    assert all(session.session_key not in page.content.decode() for page in pages)
