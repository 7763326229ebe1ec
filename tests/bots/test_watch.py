"""The watchers raise one alert per lasting condition, with words a person can act on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.models import Alert, Bot, BotPosition, EquitySnapshot, RiskTemplate
from bots.services.tuning import bot_create
from bots.services.watch import watch_connectivity, watch_key, watch_losses, watch_positions
from exchange.models import ExchangeConnection, StreamShard
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot():
    owner = client_with_2fa()
    return bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="w",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
        mode=Bot.Mode.DRY_RUN,
    ).bot


def test_position_open_over_a_day_is_alerted_once(bot):
    BotPosition.objects.create(
        tenant=bot.tenant,
        bot=bot,
        symbol="BTCUSDT",
        qty=Decimal("0.1"),
        avg_price=Decimal("50000"),
        opened_at=timezone.now() - timedelta(hours=25),
    )
    assert watch_positions() == 1
    assert watch_positions() == 0
    alert = Alert.objects.get(kind="position.open_long")
    assert alert.bot == bot and "over 24 hours" in alert.message


def test_loss_past_the_clients_threshold_is_alerted(bot):
    Bot.objects.filter(pk=bot.pk).update(
        loss_alert_threshold=Decimal("100"), state=Bot.State.RUNNING
    )
    EquitySnapshot.objects.create(
        tenant=bot.tenant,
        bot=bot,
        at=timezone.now(),
        equity=Decimal("9850"),
        realised_pnl=Decimal("-120"),
        unrealised_pnl=Decimal("-30"),
    )
    assert watch_losses() == 1
    alert = Alert.objects.get(kind="loss.threshold")
    assert "-150.00 USDT" in alert.message and alert.severity == "critical"


def test_silent_stream_shard_alerts_the_operator(settings):
    settings.CONNECTIVITY_ALERT_MINUTES = 5
    StreamShard.objects.create(
        shard=0, shards=1, heartbeat_at=timezone.now() - timedelta(minutes=6)
    )
    assert watch_connectivity() == 1
    alert = Alert.objects.get(kind="connectivity.streams")
    assert alert.tenant is None


def test_invalid_or_expiring_keys_are_alerted(bot):
    connection = ExchangeConnection.objects.create(
        tenant=bot.tenant,
        environment="simulator",
        status="invalid",
        last_error="Bybit did not accept it.",
        api_key_last4="ABCD",
        key_expires_at=timezone.now() + timedelta(days=3),
    )
    watch_key(connection)
    kinds = set(Alert.objects.filter(tenant=bot.tenant).values_list("kind", flat=True))
    assert kinds == {"key.invalid", "key.expiring"}
