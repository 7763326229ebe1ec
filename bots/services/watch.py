"""Watching for things a person must know about, beyond what a tick or reconciliation sees.

Each check raises an alert with a dedupe key, so a condition that lasts is one open alert, not
one per run: positions open too long, losses beyond the client's threshold, stream connectivity
lost for too long, exchange keys refused or about to expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from bots.models import Bot, BotPosition, EquitySnapshot
from bots.services.alerts import alert_raise
from bots.texts import phrase
from exchange.events import KeyChecked, KeyEvent
from exchange.models import ExchangeConnection, StreamShard

POSITION_MAX_AGE = timedelta(hours=24)
KEY_EXPIRY_WARNING = timedelta(days=7)


def watch_positions(now: datetime | None = None) -> int:
    """A position held longer than 24 h (strategies here trade intraday swings)."""
    now = now or timezone.now()
    raised = 0
    for position in (
        BotPosition.objects.exclude(qty=0)
        .filter(opened_at__lt=now - POSITION_MAX_AGE)
        .select_related("bot")
    ):
        if alert_raise(
            tenant_id=position.tenant_id,
            bot_id=position.bot_id,
            kind="position.open_long",
            params={
                "bot": position.bot.name,
                "symbol": position.symbol,
                "qty": position.qty,
                "since": f"{position.opened_at:%Y-%m-%d %H:%M}",
            },
            dedupe_key=f"open_long:{position.pk}:{position.opened_at:%Y%m%d%H%M}",
        ):
            raised += 1
    return raised


def watch_losses() -> int:
    """A bot whose P&L (realised and unrealised) is below the client's loss threshold."""
    raised = 0
    for bot in Bot.objects.exclude(loss_alert_threshold=None).exclude(state=Bot.State.DRAFT):
        latest = EquitySnapshot.objects.filter(bot=bot).order_by("-at").first()
        if latest is None:
            continue
        pnl = latest.realised_pnl + latest.unrealised_pnl
        threshold = abs(Decimal(bot.loss_alert_threshold))
        if pnl <= -threshold and alert_raise(
            tenant_id=bot.tenant_id,
            bot_id=bot.pk,
            kind="loss.threshold",
            severity="critical",
            params={"bot": bot.name, "pnl": f"{pnl:.2f}", "threshold": f"{threshold:.2f}"},
            dedupe_key=f"loss:{bot.pk}",
        ):
            raised += 1
    return raised


def watch_connectivity(now: datetime | None = None) -> int:
    """Stream shards silent for longer than ``CONNECTIVITY_ALERT_MINUTES``: an operator alert."""
    now = now or timezone.now()
    stale = now - timedelta(minutes=settings.CONNECTIVITY_ALERT_MINUTES)
    raised = 0
    for shard in StreamShard.objects.filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None)):
        if alert_raise(
            tenant_id=None,
            kind="connectivity.streams",
            severity="critical",
            params={"shard": shard, "minutes": settings.CONNECTIVITY_ALERT_MINUTES},
            dedupe_key=f"streams:{shard.pk}",
        ):
            raised += 1
    return raised


def on_key_event(event: KeyEvent) -> int:
    """``EXCHANGE_KEY_HANDLERS``: a checked key is watched; a replaced key's bots move to the new
    one (history such as executions stays with the key that produced it). Returns rows switched."""
    if isinstance(event, KeyChecked):
        watch_key(event.connection)
        return 0
    return Bot.objects.filter(connection=event.old).update(connection=event.new)


def watch_key(connection: ExchangeConnection) -> None:
    """After a validation: a refused key puts its bots in the error state at once (one alert for
    all of them, to the client and the staff); a key that expires within a week is a warning."""
    if connection.status == ExchangeConnection.Status.INVALID:
        from bots.services.lifecycle import bot_error

        stopped = 0
        for bot in Bot.objects.filter(
            connection=connection, state__in=[Bot.State.RUNNING, Bot.State.PAUSED]
        ):
            stopped += bot_error(
                bot=bot,
                kind="bot.error.key",
                alert=False,
                params={
                    "bot": bot.name,
                    "key": connection.api_key_last4,
                    "reason": connection.last_error,
                },
                reason=phrase(
                    "bot.state.key_refused",
                    key=connection.api_key_last4,
                    reason=connection.last_error,
                ),
            )
        alert_raise(
            tenant_id=connection.tenant_id,
            kind="key.invalid",
            severity="critical",
            params={
                "key": connection.api_key_last4,
                "reason": connection.last_error,
                "bots": stopped,
            },
            dedupe_key=f"key_invalid:{connection.pk}",
            notify_operator=True,
        )
    expires = connection.key_expires_at
    if expires is not None and expires - timezone.now() < KEY_EXPIRY_WARNING:
        alert_raise(
            tenant_id=connection.tenant_id,
            kind="key.expiring",
            params={"key": connection.api_key_last4, "date": f"{expires:%Y-%m-%d}"},
            dedupe_key=f"key_expiring:{connection.pk}",
        )
