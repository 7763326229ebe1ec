"""When the live socket is down the dashboard says so and keeps itself fresh by polling.

pytest-django's live server is WSGI, so ``/ws/live/`` never connects there: exactly the dropped-
socket case. The 30-second interval is shortened through ``window.TRADINGSVC_FALLBACK_MS``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.models import BotFill, RiskTemplate
from bots.services.tuning import bot_create
from tests.factories import client_with_2fa
from tests.fixtures.browser import log_in_with_2fa, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_says_live_updates_are_down_and_polls_until_they_are_back(live_server, chromium):
    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Poll",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script("window.TRADINGSVC_FALLBACK_MS = 700")
    page = context.new_page()
    log_in_with_2fa(page, live_server.url, owner)
    page.wait_for_selector("#live-status.off")
    assert "30 s" in page.inner_text("#live-status")
    page.evaluate("window.__sameDocument = true")
    BotFill.objects.create(
        tenant=owner.tenant,
        bot=bot,
        exec_id="poll-1",
        symbol="BTCUSDT",
        side="Buy",
        price=Decimal("60000"),
        qty=Decimal("0.01"),
        fee=Decimal("0.33"),
        realised_pnl=Decimal("-0.33"),
        simulated=True,
        exec_time=timezone.now() - timedelta(seconds=5),
    )
    page.wait_for_selector("#fills tbody tr", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("window.tradingsvcLive.refreshes") >= 1
    screenshot(page, "app-live-fallback")
