"""Equity snapshots every few minutes, per tenant (from the wallet) and per bot (from its position).

P&L today and in total come from these snapshots and the fills; deposits and withdrawals are
capital flows (``CapitalFlow``), so they never count as profit or loss.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from bots.market import bot_market_environment
from bots.models import Bot, BotPosition, EquitySnapshot
from bots.services.live import publish_bot_event
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeConnection
from exchange.selectors import candle_latest
from reports.services.rollups import rollup_record


def _last_price(bot: Bot) -> Decimal | None:
    """The bot's last close, from its own environment's candles."""
    candle = candle_latest(
        environment=bot_market_environment(bot), symbol=bot.symbol, interval=bot.timeframe
    )
    return candle.close if candle else None


def unrealised_pnl(position: BotPosition, price: Decimal | None) -> Decimal:
    if price is None or position.qty == 0:
        return Decimal(0)
    value: Decimal = position.qty * (price - position.avg_price)
    return value


def snapshot_record(
    *,
    tenant_id: UUID,
    equity: Decimal,
    at: datetime,
    bot: Bot | None = None,
    realised_pnl: Decimal = Decimal(0),
    unrealised_pnl: Decimal = Decimal(0),
) -> EquitySnapshot:
    """The one way to write a snapshot: it is also folded into the hour and day rollups that
    the dashboard and the charts read."""
    snapshot = EquitySnapshot.objects.create(
        tenant_id=tenant_id, bot=bot, at=at, equity=equity, realised_pnl=realised_pnl,
        unrealised_pnl=unrealised_pnl,
    )  # fmt: skip
    rollup_record(snapshot)
    return snapshot


def snapshot_connection(*, connection: ExchangeConnection) -> EquitySnapshot:
    """The tenant's equity from the exchange wallet, plus one snapshot per bot on this key."""
    now = timezone.now()
    wallet = ExchangeGateway.for_connection(connection).wallet_balance()
    tenant_snapshot = snapshot_record(
        tenant_id=connection.tenant_id, at=now, equity=wallet.total_equity
    )
    for bot in Bot.objects.filter(connection=connection).exclude(state=Bot.State.DRAFT):
        snapshot_bot(bot=bot, at=now)
    return tenant_snapshot


def snapshot_bot(*, bot: Bot, at: datetime | None = None) -> EquitySnapshot:
    """A bot's equity: its sized capital plus realised and unrealised P&L of its own trades."""
    at = at or timezone.now()
    position = BotPosition.objects.filter(bot=bot, symbol=bot.symbol).first()
    realised = position.realised_pnl if position else Decimal(0)
    unrealised = unrealised_pnl(position, _last_price(bot)) if position else Decimal(0)
    base = Decimal(settings.DRY_RUN_EQUITY) if bot.connection_id is None else Decimal(0)
    snapshot = snapshot_record(
        tenant_id=bot.tenant_id, bot=bot, at=at, equity=base + realised + unrealised,
        realised_pnl=realised, unrealised_pnl=unrealised,
    )  # fmt: skip
    publish_bot_event(tenant_id=bot.tenant_id, bot_id=bot.pk, kind="equity")
    return snapshot
