"""Writes to the books: capital flows from the transaction log, peaks that move with flows.

``bots.books`` defines every figure; this module records what those figures are made of.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import audit_record
from bots.books import account_equity
from bots.models import Bot, CapitalFlow
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeAccount, ExchangeConnection
from exchange.types import TransactionLogEntry

log = structlog.stdlib.get_logger(__name__)

# What moves capital in or out of the account. Trading P&L (TRADE), fees, funding (SETTLEMENT),
# liquidations and bonuses are results of trading, never flows.
FLOW_TYPES = {
    "DEPOSIT": CapitalFlow.Kind.DEPOSIT,
    "TRANSFER_IN": CapitalFlow.Kind.DEPOSIT,
    "WITHDRAW": CapitalFlow.Kind.WITHDRAWAL,
    "TRANSFER_OUT": CapitalFlow.Kind.WITHDRAWAL,
}
# Where the first sync of a new account starts: before that, capital is in the first snapshot.
FIRST_SYNC_LOOKBACK = timedelta(days=1)
# A little re-read at each sync, for entries the exchange writes with a slightly earlier time.
SYNC_OVERLAP = timedelta(minutes=5)
# How far behind the exchange's clock a new entry may be booked; re-read at every sync. (The
# simulator's stepped market clock trails its server clock by up to an hour.)
RECORD_LAG = timedelta(hours=2)


def capital_flows_record(*, connection: ExchangeConnection, gateway: ExchangeGateway) -> int:
    """Record every flow of the key's account since the last sync; returns how many were new.

    Walks every page of every window up to the exchange's now, so an outage of any length is
    recovered; each entry is recorded once (unique per account and the log's own id), whichever
    key reads it. The sync point moves only after the whole walk succeeded, and never back.
    """
    if connection.account_id is None:
        raise ValueError(f"connection {connection.pk} is not tied to an exchange account")
    account = ExchangeAccount.objects.get(pk=connection.account_id)
    since = (
        account.flows_synced_until - SYNC_OVERLAP
        if account.flows_synced_until
        else account.created_at - FIRST_SYNC_LOOKBACK
    )
    entries, server_now = gateway.transaction_log_since(since, types=frozenset(FLOW_TYPES))
    recorded = sum(1 for entry in entries if _flow_record(account, entry))
    # The log is complete up to its newest entry, and up to a while before the exchange's now
    # (records carry the time they were booked, which may trail the server clock a little).
    newest = [e.transaction_time for e in entries if e.transaction_time is not None]
    point = max([since + SYNC_OVERLAP, server_now - RECORD_LAG, *newest])
    ExchangeAccount.objects.filter(pk=account.pk).update(flows_synced_until=point)
    return recorded


def _flow_record(account: ExchangeAccount, entry: TransactionLogEntry) -> bool:
    """One flow, once; a new one moves the peaks of the account's bots in the same transaction."""
    kind = FLOW_TYPES.get(entry.type)
    if kind is None or entry.transaction_time is None:
        return False
    amount = abs(entry.change or entry.cash_flow)
    try:
        with transaction.atomic():
            flow = CapitalFlow.objects.create(
                tenant_id=account.tenant_id, account=account, exchange_id=entry.id, kind=kind,
                amount=amount, coin="USDT", at=entry.transaction_time,
            )  # fmt: skip
            _peaks_follow_flow(account, flow)
    except IntegrityError:
        return False
    log.info(
        "books.flow_recorded", tenant_id=str(account.tenant_id), account_id=account.pk,
        kind=kind, amount=str(amount), exchange_id=entry.id,
    )  # fmt: skip
    return True


def peak_after_flow(peak: Decimal, flow: Decimal, equity_before: Decimal | None) -> Decimal:
    """A drawdown peak moved by a flow, so that the flow itself is never a drawdown.

    A deposit raises the peak by its amount. A withdrawal lowers it in proportion to the share of
    equity withdrawn: the drawdown as a fraction is what it was before, so withdrawing more than
    the drawdown limit can never trip the breaker. (Billing's high-water mark follows the same
    rule.) With no equity known before the flow, the peak is lowered by the amount.
    """
    if flow >= 0:
        return peak + flow
    withdrawn = -flow
    if equity_before is not None and equity_before > 0:
        share = min(withdrawn / equity_before, Decimal(1))
        return max(peak * (1 - share), Decimal(0))
    return max(peak - withdrawn, Decimal(0))


def _peaks_follow_flow(account: ExchangeAccount, flow: CapitalFlow) -> None:
    # The latest snapshot does not hold this flow yet: snapshots are written after the sync. With
    # no snapshot at all (the account's first sync), the flow is in the opening equity that any
    # peak will start from, so no peak moves.
    before = account_equity(account.pk)
    if before is None:
        return
    bots = list(
        Bot.objects.select_for_update()
        .filter(connection__account=account, mode=Bot.Mode.LIVE, peak_equity__gt=0)
        .order_by("pk")
    )
    for bot in bots:
        bot.peak_equity = peak_after_flow(bot.peak_equity, flow.signed_amount, before)
        Bot.objects.filter(pk=bot.pk).update(peak_equity=bot.peak_equity)


def bot_peak_reset(
    *, bot: Bot, equity: Decimal, by: User | None, request: HttpRequest | None = None
) -> None:
    """Start the bot's drawdown afresh from ``equity`` (the operator's reset, or a resume)."""
    before = bot.peak_equity
    bot.peak_equity = equity
    Bot.objects.filter(pk=bot.pk).update(peak_equity=equity, updated_at=timezone.now())
    audit_record(
        action="bot.peak_reset", actor=by, tenant=bot.tenant, target=bot, request=request,
        before={"peak_equity": str(before)}, after={"peak_equity": str(equity)},
    )  # fmt: skip
