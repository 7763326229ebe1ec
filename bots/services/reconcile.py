"""Reconciliation: local state is compared with the exchange's and corrected, per exchange account.

Run on a schedule and at worker start, once per account, through the key that speaks for it
(``exchange.services.accounts.account_speaking_connection``); every bot of the account is checked
whichever of the account's keys it uses. For each account with bots:

0. A tenant that no longer trades (suspended, disabled) has its bots' open orders cancelled first;
   everything below still runs, so its live positions' books stay right.
1. Unknown intents are resolved by asking the exchange about their ``orderLinkId`` (never by
   sending); one still unknown after an hour raises an alert, well inside Bybit's 24 h window.
2. Executions since the last stored one are fetched (REST catch-up) and handed to the engine, so a
   fill missed by the stream is applied, once.
3. Positions: the exchange is authoritative. A bot's local position that differs is corrected and
   alerted, but only when both sides cover the same executions (see ``_check_positions``); a
   position on a symbol no bot of this account trades is an "unintended position".
4. Open orders the service did not place (no ``ts``/``ks`` prefix) raise an alert.
5. Deposits, withdrawals and transfers from the transaction log are recorded as capital flows:
   every page of every window (Bybit answers at most 7 days a request) from where the last sync
   stopped, so an outage of any length loses none. Trading P&L, fees and funding are not flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from django.db import transaction
from django.utils import timezone

from accounts.models import Tenant
from bots.models import Bot, BotFill, BotPosition, OrderIntent
from bots.services.alerts import alert_raise
from bots.services.fills import OUR_PREFIXES
from bots.services.orders import (
    UNKNOWN_EXPIRED,
    intent_give_up,
    intent_resolve,
    intents_past_lookup_window,
)
from bots.services.protection import connection_orders_halt
from exchange.errors import ExchangeError
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeConnection, Execution
from exchange.services.executions import execution_store, executions_hand_over

log = structlog.stdlib.get_logger(__name__)
UNKNOWN_ALERT_AFTER = timedelta(hours=1)
POSITION_TP_SL = {"TakeProfit", "StopLoss", "TrailingStop", "PartialTakeProfit", "PartialStopLoss"}
CATCH_UP_DEFAULT = timedelta(days=1)


@dataclass
class ReconcileReport:
    resolved_intents: int = 0
    executions_fetched: int = 0
    positions_corrected: int = 0
    positions_deferred: int = 0
    capital_flows: int = 0
    orders_halted: int = 0
    alerts: list[str] = field(default_factory=list)


def reconcile_connection(*, connection: ExchangeConnection) -> ReconcileReport:
    """Reconcile the exchange account that ``connection`` reaches, through that key."""
    if connection.account_id is None:
        raise ValueError(f"connection {connection.pk} is not tied to an exchange account")
    report = ReconcileReport()
    gateway = ExchangeGateway.for_connection(connection)
    bots = list(
        Bot.objects.filter(connection__account_id=connection.account_id).exclude(
            state=Bot.State.DRAFT
        )
    )
    if not Tenant.objects.get(pk=connection.tenant_id).trades:
        # A tenant that no longer trades keeps no order on the book; its books are still kept.
        try:
            report.orders_halted = connection_orders_halt(connection=connection)
        except ExchangeError as exc:  # the next run cancels; the books are kept regardless
            log.warning("reconcile.halt_failed", connection_id=connection.pk, error=exc.message)
    _resolve_unknown(connection, gateway, report)
    caught_up = _catch_up_executions(connection, gateway, report)
    _check_positions(connection, gateway, bots, report, caught_up=caught_up)
    _check_open_orders(connection, gateway, report)
    _record_capital_flows(connection, gateway, report)
    log.info(
        "reconcile.done",
        tenant_id=str(connection.tenant_id),
        connection_id=connection.pk,
        **report.__dict__,
    )
    return report


def _resolve_unknown(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> None:
    # Past Bybit's look-up window: asked one last time, then given up with an alert.
    for intent in intents_past_lookup_window(connection_id=connection.pk):
        if intent_give_up(intent=intent, gateway=gateway):
            report.alerts.append("order.unknown_expired")
    unknown = OrderIntent.objects.filter(
        bot__connection__account_id=connection.account_id, state=OrderIntent.State.UNKNOWN
    ).exclude(error_code=UNKNOWN_EXPIRED)
    for intent in unknown:
        resolved = intent_resolve(intent=intent, gateway=gateway)
        if resolved.state != OrderIntent.State.UNKNOWN:
            report.resolved_intents += 1
        elif resolved.sent_at and timezone.now() - resolved.sent_at > UNKNOWN_ALERT_AFTER:
            _alert(
                connection,
                report,
                "order.unknown",
                {"link": resolved.order_link_id},
                f"unknown:{resolved.order_link_id}",
                bot_id=resolved.bot_id,
            )


def _catch_up_since(connection: ExchangeConnection) -> datetime:
    """Where the REST catch-up starts: a minute before the account's newest stored fill."""
    last = Execution.objects.filter(account_id=connection.account_id).order_by("-exec_time").first()
    return last.exec_time - timedelta(minutes=1) if last else timezone.now() - CATCH_UP_DEFAULT


def _catch_up_executions(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> set[str]:
    """Store and hand over the fills since the last stored one; returns the exec ids it read."""
    executions = gateway.executions_since(_catch_up_since(connection))
    execution_store(connection_id=connection.pk, executions=executions, source="rest")
    report.executions_fetched = len(executions)
    executions_hand_over(connection_ids=[connection.pk])
    return {e.exec_id for e in executions}


def _check_positions(
    connection: ExchangeConnection,
    gateway: ExchangeGateway,
    bots: list[Bot],
    report: ReconcileReport,
    *,
    caught_up: set[str],
) -> None:
    """Correct each bot's position to the exchange's, when the two cover the same executions.

    A bot's position is the sum of the fills applied to it; the exchange's is the sum of every
    execution up to the moment it is read. Ticks, TP/SL and the stream go on meanwhile, so the two
    also differ by mere timing: a fill that lands after the catch-up is in the exchange's figure
    and not yet in ours, and copying that figure and then applying the fill when it arrives (stream
    or next catch-up) counts it twice; nothing notices once the position is flat, as the exchange
    no longer lists it. So the exchange's executions are read again after its positions, and a
    symbol is left for the next run when any execution around that read is not settled here:
    - one that landed after the catch-up read (it may or may not be in the exchange's figure);
    - one not yet handed to the engine (stored but not handled, or not stored);
    - a fill applied here for an execution newer than the second read.
    Otherwise the two are comparable and a difference is real drift: it is corrected under the
    position's row lock, so a fill arriving meanwhile waits and then lands on the corrected figure.
    No network call is made while that lock is held.

    By ``settleCoin`` Bybit lists only positions with a size: a bot's symbol missing there is flat.
    """
    by_symbol = {b.symbol: b for b in bots}
    held = {p.symbol: p for p in gateway.positions() if p.size}
    since = _catch_up_since(connection)
    recent = gateway.executions_since(since)  # after the positions: every fill they include
    recent_ids = {e.exec_id for e in recent}
    # Rows for every bot, so the lock below covers them all (a missing one could be created by a
    # fill in between, unseen).
    BotPosition.objects.bulk_create(
        [BotPosition(tenant_id=b.tenant_id, bot=b, symbol=b.symbol) for b in by_symbol.values()],
        ignore_conflicts=True,
    )
    corrected: list[tuple[Bot, Decimal, Decimal]] = []
    with transaction.atomic():
        local = {
            (p.bot_id, p.symbol): p
            for p in BotPosition.objects.select_for_update()
            .filter(bot__in=list(by_symbol.values()))
            .order_by("pk")
        }
        handled = set(
            Execution.objects.filter(
                account_id=connection.account_id, exec_id__in=recent_ids, handled_at__isnull=False
            ).values_list("exec_id", flat=True)
        )
        settled = caught_up & handled
        unsettled = {e.symbol for e in recent if e.exec_id not in settled}
        unsettled.update(
            Execution.objects.filter(account_id=connection.account_id, handled_at=None).values_list(
                "symbol", flat=True
            )
        )
        unsettled.update(
            BotFill.objects.filter(account_id=connection.account_id, exec_time__gte=since)
            .exclude(exec_id__in=recent_ids)
            .values_list("symbol", flat=True)
        )
        for symbol, bot in by_symbol.items():
            if symbol in unsettled:
                report.positions_deferred += 1
                log.info(
                    "reconcile.position_deferred",
                    connection_id=connection.pk,
                    bot_id=bot.pk,
                    symbol=symbol,
                )
                continue
            position = held.get(symbol)
            signed, avg = Decimal(0), Decimal(0)
            if position is not None:
                signed = position.size if position.side == "Buy" else -position.size
                avg = position.avg_price
            mine = local[(bot.pk, symbol)]
            if mine.qty != signed or (signed != 0 and mine.avg_price != avg):
                BotPosition.objects.filter(pk=mine.pk).update(qty=signed, avg_price=avg)
                corrected.append((bot, mine.qty, signed))
    for bot, before, signed in corrected:
        report.positions_corrected += 1
        _alert(
            connection,
            report,
            "position.corrected",
            {"bot": bot.name, "held": signed, "symbol": bot.symbol, "before": before},
            f"corrected:{bot.pk}",
            bot_id=bot.pk,
        )
    for symbol, position in held.items():
        if symbol not in by_symbol:
            signed = position.size if position.side == "Buy" else -position.size
            _alert(
                connection,
                report,
                "position.unintended",
                {"symbol": symbol, "qty": signed},
                f"unintended:{connection.account_id}:{symbol}",
            )


def _check_open_orders(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> None:
    for order in gateway.open_orders():
        # Bybit lists a position's TP/SL as conditional orders of their own, without an orderLinkId.
        position_tp_sl = order.stop_order_type in POSITION_TP_SL
        if not order.order_link_id.startswith(OUR_PREFIXES) and not position_tp_sl:
            _alert(
                connection,
                report,
                "order.foreign",
                {"side": order.side, "qty": order.qty, "symbol": order.symbol},
                f"foreign:{order.order_id}",
            )


def _record_capital_flows(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> None:
    """Record every flow since the account's last sync; the sync point moves only on success."""
    from bots.services.books import capital_flows_record

    try:
        report.capital_flows = capital_flows_record(connection=connection, gateway=gateway)
    except ExchangeError as exc:
        log.warning(
            "reconcile.transaction_log_failed", connection_id=connection.pk, error=exc.message
        )


def _alert(
    connection: ExchangeConnection,
    report: ReconcileReport,
    kind: str,
    params: dict[str, object],
    key: str,
    bot_id: int | None = None,
) -> None:
    if alert_raise(
        tenant_id=connection.tenant_id, bot_id=bot_id, kind=kind, params=params, dedupe_key=key
    ):
        report.alerts.append(kind)
