"""Sensitive changes ask for the password again: a change of email address (which leads to a
password reset), creating a live bot, and starting or resuming one; a dry-run bot or a pause does not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bots.models import Bot, RiskTemplate
from bots.services.tuning import bot_create
from tests.factories import ExchangeConnectionFactory, client_with_2fa, reauthenticate

pytestmark = pytest.mark.django_db
REAUTH = "/accounts/reauthenticate/"


def _signed_in(membership) -> Client:
    """Signed in, but the password not confirmed recently."""
    client = Client()
    client.force_login(membership.user)
    return client


def _live_bot(owner) -> Bot:
    connection = ExchangeConnectionFactory.create(tenant=owner.tenant, status="active")
    return bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Live",
        symbol="BTCUSDT",
        connection=connection,
        mode=Bot.Mode.LIVE,
        by=owner.user,
    ).bot


def test_changing_the_email_address_needs_a_fresh_password():
    """Adding an address is refused outright to a 2FA account (allauth); changing which address
    is kept (removing one) asks for the password first."""
    from allauth.account.models import EmailAddress

    owner = client_with_2fa()
    spare = EmailAddress.objects.create(
        user=owner.user, email="spare@example.test", verified=True, primary=False
    )
    client = _signed_in(owner)

    added = client.post(
        reverse("account_email"), {"action_add": "", "email": "new-address@example.test"}
    )
    removed = client.post(reverse("account_email"), {"action_remove": "", "email": spare.email})

    assert not EmailAddress.objects.filter(email="new-address@example.test").exists()
    assert added.status_code == 200
    assert removed.status_code == 302 and removed["Location"].startswith(REAUTH)
    assert EmailAddress.objects.filter(pk=spare.pk).exists()


def test_starting_a_live_bot_needs_a_fresh_password_but_pausing_does_not():
    """Start is sent to the password page; pause acts at once (never slowed by a password)."""
    owner = client_with_2fa()
    bot = _live_bot(owner)
    client = _signed_in(owner)

    start = client.post(reverse("portal:bot_control", kwargs={"pk": bot.pk, "action": "start"}))
    state_after_start = Bot.objects.get(pk=bot.pk).state
    reauthenticate(client)
    started = client.post(reverse("portal:bot_control", kwargs={"pk": bot.pk, "action": "start"}))

    assert start.status_code == 302 and start["Location"].startswith(REAUTH)
    assert state_after_start != Bot.State.RUNNING
    assert started.status_code == 302 and Bot.objects.get(pk=bot.pk).state == Bot.State.RUNNING
    pause = _signed_in(owner).post(
        reverse("portal:bot_control", kwargs={"pk": bot.pk, "action": "pause"})
    )
    assert not pause["Location"].startswith(REAUTH)
    assert Bot.objects.get(pk=bot.pk).state == Bot.State.PAUSED


def test_creating_a_live_bot_needs_a_fresh_password_a_dry_run_one_does_not():
    """The live mode on the new-bot form asks for the password; dry run goes straight through."""
    owner = client_with_2fa()
    connection = ExchangeConnectionFactory.create(tenant=owner.tenant, status="active")
    template = RiskTemplate.objects.get(slug="moderate")
    form = {
        "template": template.pk,
        "name": "New",
        "symbol": "BTCUSDT",
        "connection": connection.pk,
    }
    client = _signed_in(owner)

    live = client.post(reverse("portal:bot_new"), {**form, "mode": Bot.Mode.LIVE})
    dry = client.post(reverse("portal:bot_new"), {**form, "name": "Dry", "mode": Bot.Mode.DRY_RUN})

    assert live.status_code == 302 and live["Location"].startswith(REAUTH)
    assert not Bot.objects.filter(tenant=owner.tenant, name="New").exists()
    assert not dry["Location"].startswith(REAUTH)
    assert Bot.objects.filter(tenant=owner.tenant, name="Dry").exists()
