"""Writes to the books: capital flows from the transaction log, peaks that move with flows.

``bots.books`` defines every figure; this module records what those figures are made of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import audit_record
from bots.books import account_equity
from bots.models import Bot, CapitalFlow
from bots.risk import peak_after_flow
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
# How far back the books check recounts by default.
CHECK_WINDOW = timedelta(days=7)


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
                tenant_id=account.tenant_id,
                account=account,
                exchange_id=entry.id,
                kind=kind,
                amount=amount,
                coin="USDT",
                at=entry.transaction_time,
            )
            _peaks_follow_flow(account, flow)
    except IntegrityError:
        return False
    log.info(
        "books.flow_recorded",
        tenant_id=str(account.tenant_id),
        account_id=account.pk,
        kind=kind,
        amount=str(amount),
        exchange_id=entry.id,
    )
    return True


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
        action="bot.peak_reset",
        actor=by,
        tenant=bot.tenant,
        target=bot,
        request=request,
        before={"peak_equity": str(before)},
        after={"peak_equity": str(equity)},
    )


@dataclass
class BooksCheck:
    """What the exchange holds against what we counted, for one account over a window.

    Each list names what differs; ``figures`` carries the sums compared, for the alert.
    """

    account_id: int
    executions_missing: list[str] = field(default_factory=list)
    executions_unknown: list[str] = field(default_factory=list)
    fills_unapplied: list[str] = field(default_factory=list)
    flows_missing: list[str] = field(default_factory=list)
    flows_unknown: list[str] = field(default_factory=list)
    positions: dict[str, tuple[str, str]] = field(default_factory=dict)  # symbol: (ours, theirs)
    figures: dict[str, str] = field(default_factory=dict)

    @property
    def divergent(self) -> bool:
        return bool(
            self.executions_missing
            or self.executions_unknown
            or self.fills_unapplied
            or self.flows_missing
            or self.flows_unknown
            or self.positions
        )


def books_check(
    *, connection: ExchangeConnection, since: datetime | None = None, alert: bool = True
) -> BooksCheck:
    """Recount an account from the exchange and compare it with our books.

    Executions and flows since ``since`` (default: a week) must be ours exactly, each once; every
    execution of our own orders must have been applied to a bot; each symbol's position summed
    over the account's bots must be the exchange's. A divergence raises one alert to the operator
    with the figures. Positions are compared only when no fill is in flight (stored but not yet
    handed over), as reconciliation does.
    """
    from bots.models import BotFill, BotPosition, OrderIntent
    from exchange.models import Execution

    if connection.account_id is None:
        raise ValueError(f"connection {connection.pk} is not tied to an exchange account")
    account_id = connection.account_id
    gateway = ExchangeGateway.for_connection(connection)
    since = since or timezone.now() - CHECK_WINDOW
    check = BooksCheck(account_id=account_id)

    held = {p.symbol: p for p in gateway.positions() if p.size}
    theirs = {e.exec_id: e for e in gateway.executions_since(since)}
    ours = dict(
        Execution.objects.filter(account_id=account_id, exec_time__gte=since).values_list(
            "exec_id", "handled_at"
        )
    )
    check.executions_missing = sorted(set(theirs) - set(ours))
    check.executions_unknown = sorted(set(ours) - set(theirs))
    applied = set(
        BotFill.objects.filter(account_id=account_id, exec_id__in=list(theirs)).values_list(
            "exec_id", flat=True
        )
    )
    our_links = set(
        OrderIntent.objects.filter(
            bot__connection__account_id=account_id,
            order_link_id__in=[e.order_link_id for e in theirs.values() if e.order_link_id],
        ).values_list("order_link_id", flat=True)
    )
    check.fills_unapplied = sorted(
        exec_id
        for exec_id, e in theirs.items()
        if e.order_link_id in our_links
        and exec_id not in applied
        and ours.get(exec_id) is not None  # handed over, yet not applied
    )

    entries, _ = gateway.transaction_log_since(since, types=frozenset(FLOW_TYPES))
    their_flows = {e.id for e in entries}
    our_flows = set(
        CapitalFlow.objects.filter(account_id=account_id, at__gte=since).values_list(
            "exchange_id", flat=True
        )
    )
    check.flows_missing = sorted(their_flows - our_flows)
    check.flows_unknown = sorted(our_flows - their_flows)

    in_flight = Execution.objects.filter(account_id=account_id, handled_at=None).exists()
    if not in_flight:
        local: dict[str, Decimal] = {}
        for symbol, qty in BotPosition.objects.filter(
            bot__connection__account_id=account_id
        ).values_list("symbol", "qty"):
            local[symbol] = local.get(symbol, Decimal(0)) + qty
        for symbol in set(local) | set(held):
            position = held.get(symbol)
            signed = Decimal(0)
            if position is not None:
                signed = position.size if position.side == "Buy" else -position.size
            if local.get(symbol, Decimal(0)) != signed:
                check.positions[symbol] = (str(local.get(symbol, Decimal(0))), str(signed))
    check.figures = {
        "executions_exchange": str(len(theirs)),
        "executions_ours": str(len(ours)),
        "flows_exchange": str(len(their_flows)),
        "flows_ours": str(len(our_flows)),
        "wallet_equity": str(gateway.wallet_balance().total_equity),
    }
    log.info(
        "books.checked",
        tenant_id=str(connection.tenant_id),
        account_id=account_id,
        divergent=check.divergent,
        **check.figures,
    )
    if check.divergent and alert:
        _books_divergence_alert(connection, check)
    return check


def _books_divergence_alert(connection: ExchangeConnection, check: BooksCheck) -> None:
    from bots.models import Alert
    from bots.services.alerts import alert_raise

    parts = [
        f"{label}: {len(items)} ({', '.join(items[:5])})"
        for label, items in (
            ("executions on the exchange, not here", check.executions_missing),
            ("executions here, not on the exchange", check.executions_unknown),
            ("fills of our orders not applied", check.fills_unapplied),
            ("flows on the exchange, not here", check.flows_missing),
            ("flows here, not on the exchange", check.flows_unknown),
        )
        if items
    ]
    parts += [f"{s} position: ours {o}, exchange {t}" for s, (o, t) in check.positions.items()]
    alert_raise(
        tenant_id=None,
        kind="books.divergence",
        severity=Alert.Severity.CRITICAL,
        # An operator's alert (no tenant): the details stay in English, the sentence is a code.
        params={
            "account": check.account_id,
            "tenant": connection.tenant_id,
            "details": "; ".join(parts),
        },
        dedupe_key=f"books_divergence:{check.account_id}",
    )


def bot_peak_reset_to_current(
    *, bot: Bot, by: User | None, request: HttpRequest | None = None
) -> Decimal | None:
    """Start the bot's drawdown afresh from the equity it trades with now (``bots.books``).

    Returns that equity, or None when it is not known yet (no snapshot of its account).
    """
    from bots.books import accounts_books, breaker_state, dry_run_books

    now = timezone.now()
    account_id = bot.connection.account_id if bot.connection else None
    state = breaker_state(
        bot,
        accounts=accounts_books([account_id] if account_id else [], now=now),
        dry_runs=dry_run_books([bot] if bot.mode == Bot.Mode.DRY_RUN else [], now=now),
    )
    if state is None:
        return None
    bot_peak_reset(bot=bot, equity=state.equity, by=by, request=request)
    return state.equity


def breaker_resume(*, bot: Bot, by: User | None, request: HttpRequest | None = None) -> bool:
    """What resuming a bot the circuit breaker paused does: its drawdown starts afresh from the
    current equity (else the next tick would trip again on the same drawdown), and the breaker's
    alerts are settled. The daily loss limit still counts from the day's start. False when the
    breaker had not paused it."""
    from bots.models import Alert
    from bots.services.alerts import alert_dismiss

    open_trips = list(Alert.objects.filter(bot=bot, kind__startswith="breaker.", dismissed_at=None))
    if not open_trips:
        return False
    bot_peak_reset_to_current(bot=bot, by=by, request=request)
    for alert in open_trips:
        alert_dismiss(alert=alert, by=by)
    return True
