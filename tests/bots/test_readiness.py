"""A running bot that cannot decide yet says why: waiting for market data, or warming up until a
named time; its ticks' no-decision reasons render in the reader's language; admin lists them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from bots.market import WAITING, WARMING_UP, Readiness, bots_readiness
from bots.models import Bot, BotTick, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.tuning import bot_create
from bots.templatetags.readiness import readiness_text, tick_reason
from exchange.models import Candle, CandleHole
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db

FIFTEEN = timedelta(minutes=15)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def running(owner, symbol: str = "BTCUSDT") -> Bot:
    """A dry-run bot on the moderate template (15-minute candles, lookback 27), default env."""
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name=symbol,
        symbol=symbol,
        connection=None,
        by=owner.user,
    ).bot
    return bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)


def candles(count: int, *, first: datetime = T0, symbol: str = "BTCUSDT") -> None:
    Candle.objects.bulk_create(
        Candle(
            environment="mainnet",
            symbol=symbol,
            interval="15",
            start=first + FIFTEEN * i,
            open=Decimal(1),
            high=Decimal(1),
            low=Decimal(1),
            close=Decimal(1),
            volume=Decimal(1),
        )
        for i in range(count)
    )


def test_no_candles_is_waiting_for_market_data() -> None:
    """A bot whose pair has nothing stored yet is waiting for market data."""
    bot = running(client_with_2fa())

    assert bots_readiness([bot]) == {bot.pk: Readiness(WAITING, 0, 27)}


def test_history_the_exchange_can_still_give_is_waiting_not_warming_up() -> None:
    """Ten candles stored and nothing known missing at the exchange: the sync will backfill, so
    the bot waits for market data rather than promising a time 18 intervals away."""
    candles(10)
    bot = running(client_with_2fa())

    assert bots_readiness([bot]) == {bot.pk: Readiness(WAITING, 10, 27)}


def test_history_the_exchange_lacks_is_warming_up_until_a_named_time() -> None:
    """Ten candles after a start the exchange has no candle for: warming up, first decision when
    the 17th next candle closes (newest start + 18 intervals)."""
    candles(10)
    CandleHole.objects.create(
        environment="mainnet",
        symbol="BTCUSDT",
        interval="15",
        first_start=T0 - FIFTEEN * 100,
        last_start=T0 - FIFTEEN,
    )
    bot = running(client_with_2fa())

    found = bots_readiness([bot])[bot.pk]

    newest = T0 + FIFTEEN * 9
    assert found == Readiness(WARMING_UP, 10, 27, first_decision_at=newest + FIFTEEN * 18)
    assert readiness_text(found) == "Warming up: first decision at about 14:45"
    with translation.override("pt-br"):
        assert readiness_text(found) == "Aquecendo: primeira decisão por volta das 14:45"


def test_a_bot_with_its_whole_lookback_is_ready() -> None:
    """27 consecutive candles: nothing to say (the page shows "running")."""
    candles(27)

    assert bots_readiness([running(client_with_2fa())]) == {}


def test_no_decision_reasons_render_in_the_readers_language() -> None:
    """The tick stores a code and figures; the words come at display time, in either language."""
    bot = running(client_with_2fa())
    short = BotTick(
        bot=bot,
        candle_start=T0,
        signal={"no_decision": {"code": "history.short", "have": 3, "need": 27, "gap_at": None}},
    )
    gap = BotTick(
        bot=bot,
        candle_start=T0,
        signal={
            "no_decision": {
                "code": "history.gap",
                "have": 5,
                "need": 27,
                "gap_at": "2026-03-02T09:30:00+00:00",
            }
        },
    )

    assert tick_reason(short) == "No decision: 3 of 27 candles."
    assert tick_reason(gap) == "No decision: gap at 09:30 in the market data."
    with translation.override("pt-br"):
        assert tick_reason(short) == "Sem decisão: 3 de 27 candles."
        assert tick_reason(gap) == "Sem decisão: falha às 09:30 nos dados de mercado."


def test_the_operator_sees_bots_that_cannot_decide_in_admin(operator_client: Client) -> None:
    """Admin's bot list says why each running bot is not deciding, and filters to those bots."""
    owner = client_with_2fa()
    candles(27)
    ready = running(owner, "BTCUSDT")
    waiting = running(owner, "ETHUSDT")
    client = operator_client

    page = client.get("/admin/bots/bot/?market_data=not_ready")

    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert shown == [waiting] and ready not in shown
    assert "waiting for market data (0 of 27 candles)" in page.content.decode()
