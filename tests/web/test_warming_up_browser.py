"""In headless Chromium: a running bot that cannot decide yet says so on its page and on the
dashboard, in English and in Brazilian Portuguese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bots.models import RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.tuning import bot_create
from exchange.models import Candle, CandleHole
from tests.factories import client_with_2fa
from tests.fixtures.browser import log_in_with_2fa, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIFTEEN = timedelta(minutes=15)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_warming_up_shows_on_the_bot_page_and_dashboard_in_both_languages(live_server, chromium):
    """BTCUSDT has 10 candles after the start of the exchange's history (lookback 27): warming up
    until 14:45; ETHUSDT has none yet: waiting for market data."""
    owner = client_with_2fa()
    Candle.objects.bulk_create(
        Candle(
            environment="mainnet",
            symbol="BTCUSDT",
            interval="15",
            start=T0 + FIFTEEN * i,
            open=Decimal(1),
            high=Decimal(1),
            low=Decimal(1),
            close=Decimal(1),
            volume=Decimal(1),
        )
        for i in range(10)
    )
    CandleHole.objects.create(
        environment="mainnet",
        symbol="BTCUSDT",
        interval="15",
        first_start=T0 - FIFTEEN * 100,
        last_start=T0 - FIFTEEN,
    )
    bots = {}
    for symbol in ("BTCUSDT", "ETHUSDT"):
        bot = bot_create(
            tenant=owner.tenant,
            template=RiskTemplate.objects.get(slug="moderate"),
            name=f"Trend {symbol}",
            symbol=symbol,
            connection=None,
            by=owner.user,
        ).bot
        bots[symbol] = bot_transition(bot=bot, to="running", by=owner.user)
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in_with_2fa(page, live_server.url, owner)

    page.goto(f"{live_server.url}/app/bots/{bots['BTCUSDT'].pk}/settings/")
    assert page.inner_text("#bot-readiness") == "Warming up: first decision at about 14:45"
    screenshot(page, "warming-up-bot-page-en")
    page.goto(f"{live_server.url}/app/")
    assert (
        page.inner_text(f"#bot-readiness-{bots['BTCUSDT'].pk}")
        == "Warming up: first decision at about 14:45"
    )
    assert page.inner_text(f"#bot-readiness-{bots['ETHUSDT'].pk}") == "Waiting for market data"

    page.select_option("#language-select", "pt-br")
    page.wait_for_load_state()
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    page.goto(f"{live_server.url}/app/")
    assert (
        page.inner_text(f"#bot-readiness-{bots['BTCUSDT'].pk}")
        == "Aquecendo: primeira decisão por volta das 14:45"
    )
    assert page.inner_text(f"#bot-readiness-{bots['ETHUSDT'].pk}") == "Aguardando dados de mercado"
    page.goto(f"{live_server.url}/app/bots/{bots['BTCUSDT'].pk}/settings/")
    assert page.inner_text("#bot-readiness") == "Aquecendo: primeira decisão por volta das 14:45"
    screenshot(page, "warming-up-bot-page-pt-br")
