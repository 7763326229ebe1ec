"""Small limits that keep the service from being turned against people: the audit IP believes
X-Forwarded-For only from a trusted proxy, the local simulator is not offered to clients in
production, and a tenant cannot send invitations without limit."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.services.audit import client_ip
from accounts.services.invitations import (
    InvitationError,
    invitation_create_viewer,
    invitation_resend,
)
from exchange.forms import ExchangeKeyForm
from exchange.services.keys import KeyRefused, exchange_key_connect
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db


def test_a_forwarded_for_header_from_anyone_is_not_believed(settings):
    """A client writing X-Forwarded-For itself gets its own address recorded."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert client_ip(request) == "198.51.100.9"


def test_behind_a_trusted_proxy_the_client_is_the_last_untrusted_hop(settings):
    """A forged first hop is skipped: the proxy appends the address it really saw."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.50, 10.0.0.3"
    )

    assert client_ip(request) == "203.0.113.50"


def test_the_local_simulator_is_not_offered_to_clients_in_production(settings):
    """Neither in the form's choices nor through the service (the production profile's default
    list is checked in tests/tradingsvc/test_deploy_check.py)."""
    settings.EXCHANGE_CLIENT_ENVIRONMENTS = ["mainnet", "testnet", "demo"]
    owner = client_with_2fa()

    choices = [value for value, _label in ExchangeKeyForm().fields["environment"].choices]
    with pytest.raises(KeyRefused):
        exchange_key_connect(
            tenant=owner.tenant,
            environment="simulator",
            api_key="A" * 18,
            api_secret="B" * 36,
            by=owner.user,
        )

    assert "simulator" not in choices and "mainnet" in choices


def test_a_tenant_cannot_send_invitations_without_limit(settings):
    """Past INVITATIONS_PER_HOUR (new or resent) the next one is refused with what to do."""
    settings.INVITATIONS_PER_HOUR = 3
    owner = client_with_2fa()
    sent = [
        invitation_create_viewer(
            tenant=owner.tenant, email=f"v{n}@example.test", invited_by=owner.user
        ).invitation
        for n in range(3)
    ]

    with pytest.raises(InvitationError, match="Too many invitations"):
        invitation_create_viewer(
            tenant=owner.tenant, email="v9@example.test", invited_by=owner.user
        )
    with pytest.raises(InvitationError, match="Too many invitations"):
        invitation_resend(invitation=sent[0], by=owner.user)
