"""Equity snapshots every few minutes: per exchange account (its wallet), per tenant (the sum of
its accounts) and per bot (its own P&L, or its virtual equity in dry run).

What each series means, and how it is read as equity, is defined in ``bots.books``. An account is
snapshotted through the one key that speaks for it, however many it has; its transaction log is
synced right after the wallet is read, so every flow behind a snapshot is recorded before the
snapshot is, and the breaker never sees a withdrawal as a loss.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.utils import timezone

from bots.books import accounts_equity_sum, dry_run_equity
from bots.books import unrealised_pnl as position_unrealised
from bots.events import snapshot_taken
from bots.market import bot_market_environment
from bots.models import Bot, BotPosition, EquitySnapshot
from bots.services.live import publish_bot_event
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeAccount, ExchangeConnection
from exchange.selectors import candle_latest


def _last_price(bot: Bot) -> Decimal | None:
    """The bot's last close, from its own environment's candles."""
    candle = candle_latest(
        environment=bot_market_environment(bot), symbol=bot.symbol, interval=bot.timeframe
    )
    return candle.close if candle else None


def unrealised_pnl(position: BotPosition, price: Decimal | None) -> Decimal:
    return position_unrealised(position.qty, position.avg_price, price)


def snapshot_record(
    *,
    tenant_id: UUID,
    equity: Decimal,
    at: datetime,
    bot: Bot | None = None,
    account: ExchangeAccount | None = None,
    realised_pnl: Decimal = Decimal(0),
    unrealised_pnl: Decimal = Decimal(0),
) -> EquitySnapshot:
    """The one way to write a snapshot. Every one is announced (``bots.events.SnapshotTaken``):
    reports folds the tenant's and bots' series into the hour and day rollups that the dashboard
    and the charts read; an account's series is read raw (by the breaker and the books)."""
    snapshot = EquitySnapshot.objects.create(
        tenant_id=tenant_id,
        bot=bot,
        account=account,
        at=at,
        equity=equity,
        realised_pnl=realised_pnl,
        unrealised_pnl=unrealised_pnl,
    )
    snapshot_taken(snapshot)
    return snapshot


def snapshot_account_equity(
    *, connection: ExchangeConnection, equity: Decimal, at: datetime
) -> EquitySnapshot:
    """Record an account's equity, then the tenant's new total (the sum of its accounts)."""
    account = connection.account
    if account is None:
        raise ValueError(f"connection {connection.pk} is not tied to an exchange account")
    snapshot = snapshot_record(tenant_id=account.tenant_id, account=account, at=at, equity=equity)
    total = accounts_equity_sum(account.tenant_id)
    if total is not None:
        snapshot_record(tenant_id=account.tenant_id, at=at, equity=total)
    return snapshot


def snapshot_connection(*, connection: ExchangeConnection) -> EquitySnapshot:
    """The account's equity from the wallet (flows synced first), the tenant's total, and one
    snapshot per bot of the account."""
    from bots.services.books import capital_flows_record

    gateway = ExchangeGateway.for_connection(connection)
    wallet = gateway.wallet_balance()
    capital_flows_record(connection=connection, gateway=gateway)
    now = timezone.now()  # after the sync: every flow recorded before it is in this wallet
    snapshot = snapshot_account_equity(connection=connection, equity=wallet.total_equity, at=now)
    for bot in Bot.objects.filter(connection__account_id=connection.account_id).exclude(
        state=Bot.State.DRAFT
    ):
        snapshot_bot(bot=bot, at=now)
    return snapshot


def snapshot_bot(*, bot: Bot, at: datetime | None = None) -> EquitySnapshot:
    """A bot's snapshot: a live bot's own realised and unrealised P&L; a dry-run bot's virtual
    equity (``bots.books.dry_run_equity``)."""
    at = at or timezone.now()
    position = BotPosition.objects.filter(bot=bot, symbol=bot.symbol).first()
    realised = position.realised_pnl if position else Decimal(0)
    unrealised = unrealised_pnl(position, _last_price(bot)) if position else Decimal(0)
    if bot.mode == Bot.Mode.DRY_RUN:
        equity = dry_run_equity(realised=realised, unrealised=unrealised)
    else:
        equity = realised + unrealised
    snapshot = snapshot_record(
        tenant_id=bot.tenant_id,
        bot=bot,
        at=at,
        equity=equity,
        realised_pnl=realised,
        unrealised_pnl=unrealised,
    )
    publish_bot_event(tenant_id=bot.tenant_id, bot_id=bot.pk, kind="equity")
    return snapshot
