"""Signup is by invitation only; every failure says why in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.services.invitations import (
    InvitationError,
    invitation_accept,
    invitation_create_client,
    invitation_create_viewer,
    invitation_resend,
    invitation_revoke,
)
from tests.factories import StaffUserFactory, client_with_2fa

pytestmark = pytest.mark.django_db(transaction=True)  # emails are sent on commit
PASSWORD = "a-long enough passphrase 42"


def _token_from_last_email() -> str:
    body = mail.outbox[-1].body
    return body.split("/invite/")[1].split("/")[0]


def test_operator_invitation_creates_tenant_and_emails_text_and_html_link():
    """The invitation names the tenant, is emailed with both bodies, and stores only a token hash."""
    operator = StaffUserFactory()
    issued = invitation_create_client(
        tenant_name="Acme Capital", email="Alice@Example.test", invited_by=operator
    )

    assert issued.invitation.email == "alice@example.test"
    assert issued.invitation.tenant.name == "Acme Capital"
    assert issued.invitation.role == Membership.Role.OWNER
    assert issued.token not in issued.invitation.token_hash
    message = mail.outbox[-1]
    assert message.to == ["alice@example.test"]
    assert f"/invite/{issued.token}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f"/invite/{issued.token}/" in html
    assert AuditEvent.objects.filter(
        action="invitation.created", tenant=issued.invitation.tenant
    ).exists()


def test_signup_from_invitation_creates_owner_and_is_single_use():
    operator = StaffUserFactory()
    issued = invitation_create_client(
        tenant_name="Acme", email="alice@example.test", invited_by=operator
    )

    user = invitation_accept(token=issued.token, email="alice@example.test", password=PASSWORD)

    membership = Membership.objects.get(user=user)
    assert (
        membership.tenant == issued.invitation.tenant and membership.role == Membership.Role.OWNER
    )
    assert user.check_password(PASSWORD)
    with pytest.raises(InvitationError, match="already used"):
        invitation_accept(token=issued.token, email="alice@example.test", password=PASSWORD)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda inv: setattr(inv, "expires_at", timezone.now() - timedelta(seconds=1)), "expired"),
        (lambda inv: setattr(inv, "revoked_at", timezone.now()), "withdrawn"),
    ],
)
def test_expired_or_revoked_invitation_is_refused_with_the_reason(mutate, expected):
    issued = invitation_create_client(
        tenant_name="T", email="bob@example.test", invited_by=StaffUserFactory()
    )
    mutate(issued.invitation)
    issued.invitation.save()
    with pytest.raises(InvitationError, match=expected):
        invitation_accept(token=issued.token, email="bob@example.test", password=PASSWORD)
    assert not User.objects.filter(email="bob@example.test").exists()


def test_signup_with_another_email_is_refused():
    issued = invitation_create_client(
        tenant_name="T", email="carol@example.test", invited_by=StaffUserFactory()
    )
    with pytest.raises(InvitationError, match="different email address"):
        invitation_accept(token=issued.token, email="mallory@example.test", password=PASSWORD)


def test_resend_replaces_the_link_and_revoke_stops_it():
    operator = StaffUserFactory()
    first = invitation_create_client(tenant_name="T", email="dan@example.test", invited_by=operator)
    second = invitation_resend(invitation=first.invitation, by=operator)
    with pytest.raises(InvitationError, match="not valid"):
        invitation_accept(token=first.token, email="dan@example.test", password=PASSWORD)
    invitation_revoke(invitation=second.invitation, by=operator)
    with pytest.raises(InvitationError, match="withdrawn"):
        invitation_accept(token=second.token, email="dan@example.test", password=PASSWORD)


def test_weak_password_is_refused_with_the_rules_and_invitation_stays_usable():
    issued = invitation_create_client(
        tenant_name="T", email="erin@example.test", invited_by=StaffUserFactory()
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        invitation_accept(token=issued.token, email="erin@example.test", password="short")
    invitation_accept(token=issued.token, email="erin@example.test", password=PASSWORD)


def test_owner_invites_viewer_who_joins_read_only():
    owner = client_with_2fa("owner")
    issued = invitation_create_viewer(
        tenant=owner.tenant, email="viewer@example.test", invited_by=owner.user
    )
    viewer = invitation_accept(token=issued.token, email="viewer@example.test", password=PASSWORD)
    assert Membership.objects.get(user=viewer).role == Membership.Role.VIEWER
    with pytest.raises(InvitationError, match="already a member"):
        invitation_create_viewer(
            tenant=owner.tenant, email="viewer@example.test", invited_by=owner.user
        )


def test_signup_page_without_a_valid_invitation_says_why():
    response = Client().get("/invite/not-a-real-token/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()
    # allauth's own signup page is closed.
    assert "closed" in Client().get("/accounts/signup/").content.decode().lower()


def test_signup_page_creates_account_signs_in_and_sends_to_two_factor_setup():
    issued = invitation_create_client(
        tenant_name="Acme", email="frank@example.test", invited_by=StaffUserFactory()
    )
    client = Client()
    url = f"/invite/{_token_from_last_email()}/"
    response = client.post(
        url, {"email": "frank@example.test", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    response = client.get("/app/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
    assert Invitation.objects.get(pk=issued.invitation.pk).accepted_at is not None


def test_signup_form_keeps_what_was_typed_on_error():
    invitation_create_client(
        tenant_name="Acme", email="gina@example.test", invited_by=StaffUserFactory()
    )
    response = Client().post(
        f"/invite/{_token_from_last_email()}/",
        {"email": "gina@example.test", "password1": PASSWORD, "password2": "different"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The two passwords differ" in page
    assert 'value="gina@example.test"' in page
