"""Bad input to every form gives a clear answer, never a server error, and saves nothing wrong.

Hypothesis posts generated values to each form's own view (field names read from the form, so a
new field joins by itself): numbers with NaN, Infinity, huge, negative and oddly marked values,
unicode, NUL bytes, very long strings, HTML and script. The seed is fixed (``derandomize``) and the
examples bounded, so the run is the same in CI every time.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django import forms as django_forms
from django.db import models
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import forms as account_forms
from bots import forms as bot_forms
from bots.models import Bot, NotificationSettings, RiskTemplate
from bots.services.tuning import bot_create
from exchange import forms as exchange_forms
from tests.factories import ExchangeConnectionFactory, client_with_2fa, reauthenticate
from tradingsvc.lib.webhooks import WebhookRefused, webhook_target

pytestmark = pytest.mark.django_db
EXAMPLES = 50

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "-0",
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1" * 400,
    "0." + "0" * 300 + "1",
    "1,5",
    "1.000,50",
    "1 000",
    "١٢٣",
    "½",
    "0x10",
    "1_000",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "' OR 1=1 --",
    "\x00",
    "a\x00b",
    "\u202e",
    "😀" * 50,
    "x" * 5000,
    '=HYPERLINK("http://evil")',
    "https://127.0.0.1/",
    "https://169.254.169.254/",
    "HTTP://example.com",
    "javascript:alert(1)",
    "2026-02-30",
    "9999-12-31",
    "0000-01-01",
    "true",
    "on",
    "null",
]
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=200),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


def _fields(form: django_forms.Form) -> list[str]:
    return list(form.fields)


def _payload(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({name: values for name in names})


@pytest.fixture
def stage(settings):
    """An owner with a fresh password, a bot and a key; exchange calls go nowhere."""
    unreachable = "http://127.0.0.1:9"
    settings.EXCHANGE_REST_URLS = {k: unreachable for k in settings.EXCHANGE_REST_URLS}
    settings.EXCHANGE_HTTP_TIMEOUT_SECONDS = 0.5
    settings.EXCHANGE_READ_ATTEMPTS = 1
    owner = client_with_2fa()
    connection = ExchangeConnectionFactory.create(tenant=owner.tenant, status="active")
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Fuzz",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    client = Client()
    client.force_login(owner.user)
    reauthenticate(client)
    return owner, client, bot, connection


def _nothing_wrong_saved() -> None:
    """The invariants bad input could break: every stored number finite, every webhook public."""
    for bot in Bot.objects.all():
        for field in Bot._meta.concrete_fields:
            value = getattr(bot, field.attname)
            if isinstance(field, models.DecimalField) and value is not None:
                assert Decimal(value).is_finite(), (field.name, value)
    for row in NotificationSettings.objects.exclude(webhook_url=""):
        try:
            webhook_target(row.webhook_url)
        except WebhookRefused as exc:  # pragma: no cover - the failure message
            raise AssertionError(f"saved a refused webhook: {row.webhook_url}") from exc


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _fuzz(
    stage: Any,
    url: Callable[[Any], str],
    form: Callable[[Any], django_forms.Form],
    method: str = "post",
    extra: dict[str, str] | None = None,
) -> None:
    """Post ``EXAMPLES`` generated payloads over the form's fields to its view."""
    client = stage[1]
    names = _fields(form(stage))

    @FUZZ
    @given(data=_payload(names))
    def run(data: dict[str, str]) -> None:
        send = client.post if method == "post" else client.get
        response = send(url(stage), {**data, **(extra or {})})
        assert response.status_code < 500
        _nothing_wrong_saved()

    run()


def test_the_new_bot_form(stage):
    """Every field of the new-bot form."""
    _fuzz(
        stage,
        lambda s: reverse("portal:bot_new"),
        lambda s: bot_forms.BotCreateForm(tenant=s[0].tenant),
    )


@pytest.mark.parametrize("button", ["check", "save"])
def test_the_bot_settings_form(stage, button):
    """Limits and strategy parameters, checked and saved."""
    _fuzz(
        stage,
        lambda s: reverse("portal:bot_tuning_save", args=[s[2].pk]),
        lambda s: bot_forms.BotTuningForm(bot=s[2]),
        extra={button: "1"},
    )


def test_the_history_filter(stage):
    """The history page's filter (a GET form) and its CSV export."""
    _fuzz(
        stage,
        lambda s: reverse("portal:history"),
        lambda s: bot_forms.HistoryFilterForm(tenant=s[0].tenant),
        method="get",
    )
    _fuzz(
        stage,
        lambda s: reverse("portal:history_csv"),
        lambda s: bot_forms.HistoryFilterForm(tenant=s[0].tenant),
        method="get",
    )


def test_the_notification_settings_form(stage):
    """Email, webhook address and secret, and every bot's loss threshold."""
    _fuzz(
        stage,
        lambda s: reverse("portal:notifications_save"),
        lambda s: bot_forms.NotificationSettingsForm(bots=[s[2]]),
    )


def test_the_key_forms(stage):
    """Connecting a key (no exchange is reachable) and choosing a replacement."""
    _fuzz(
        stage, lambda s: reverse("portal:key_connect"), lambda s: exchange_forms.ExchangeKeyForm()
    )
    _fuzz(
        stage,
        lambda s: reverse("portal:key_replace", args=[s[3].pk]),
        lambda s: exchange_forms.ReplaceKeyForm(),
    )


def test_the_invitation_forms(stage, settings):
    """Inviting a viewer, and signing up from an invitation link."""
    from accounts.services.invitations import invitation_create_viewer

    settings.INVITATIONS_PER_HOUR = 10_000
    _fuzz(
        stage, lambda s: reverse("portal:team_invite"), lambda s: account_forms.ViewerInviteForm()
    )
    owner = stage[0]
    token = invitation_create_viewer(
        tenant=owner.tenant, email="fuzz-invitee@example.test", invited_by=owner.user
    ).token
    _fuzz(
        (owner, Client(), stage[2], stage[3]),
        lambda s: reverse("accounts:invitation_accept", args=[token]),
        lambda s: account_forms.InvitationAcceptForm(),
    )
