"""Every client page renders with real data; forms keep input and explain bad values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from bots.models import Alert, Bot, RiskTemplate
from bots.services.settings import bot_create
from ops.perf_data import seed_history
from tests.factories import client_with_2fa, login_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return client_with_2fa()


@pytest.fixture
def bot(owner) -> Bot:
    template = RiskTemplate.objects.get(slug="moderate")
    return bot_create(
        tenant=owner.tenant, template=template, name="Trend BTC", symbol="BTCUSDT",
        connection=None, by=owner.user,
    ).bot  # fmt: skip


@pytest.fixture
def browser(owner) -> Client:
    client = Client()
    login_with_2fa(client, owner)
    return client


PAGES = ["client_home", "dashboard_live", "performance", "history", "activity", "notifications",
         "bot_new", "client_keys", "client_team", "client_security", "client_audit"]  # fmt: skip


def test_every_page_renders_with_history(browser, bot):
    seed_history(bot=bot, orders=200, days=30)
    Alert.objects.create(tenant=bot.tenant, bot=bot, kind="test", message="Loss above threshold")
    for name in PAGES:
        response = browser.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
    page = browser.get(reverse("client_home")).content.decode()
    assert "Trend BTC" in page and "Loss above threshold" in page and 'id="emergency-stop"' in page
    for range_key in ("1d", "1w", "1m", "3m", "1y", "all"):
        response = browser.get(reverse("performance"), {"range": range_key})
        assert response.status_code == 200, range_key
        assert response.context["result"].trade_metrics.trades > 0
    assert browser.get(reverse("bot_settings", args=[bot.pk])).status_code == 200


def test_bad_settings_show_errors_and_keep_what_was_typed(browser, bot):
    response = browser.post(
        reverse("bot_settings_save", args=[bot.pk]),
        {"risk_per_trade": "0.9", "max_position_multiple": "abc", "check": "1"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="0.9"' in page and 'value="abc"' in page
    bot.refresh_from_db()
    assert bot.risk_per_trade != Decimal("0.9")
