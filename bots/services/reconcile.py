"""Reconciliation: local state is compared with the exchange's and corrected, per connection.

Run on a schedule and at worker start. For each connection with bots:

1. Unknown intents are resolved by asking the exchange about their ``orderLinkId`` (never by
   sending); one still unknown after an hour raises an alert, well inside Bybit's 24 h window.
2. Executions since the last stored one are fetched (REST catch-up) and handed to the engine, so a
   fill missed by the stream is applied, once.
3. Positions: the exchange is authoritative. A bot's local position that differs is corrected and
   alerted; a position on a symbol no bot of this connection trades is an "unintended position".
4. Open orders the service did not place (no ``ts``/``ks`` prefix) raise an alert.
5. Deposits and withdrawals from the transaction log are recorded as capital flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Bot, BotPosition, CapitalFlow, OrderIntent
from bots.services.alerts import alert_raise
from bots.services.fills import OUR_PREFIXES
from bots.services.orders import intent_resolve
from exchange.errors import ExchangeError
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeConnection, Execution
from exchange.services.executions import execution_store, executions_hand_over

log = structlog.stdlib.get_logger(__name__)
UNKNOWN_ALERT_AFTER = timedelta(hours=1)
POSITION_TP_SL = {"TakeProfit", "StopLoss", "TrailingStop", "PartialTakeProfit", "PartialStopLoss"}
CATCH_UP_DEFAULT = timedelta(days=1)
FLOW_TYPES = {"DEPOSIT": CapitalFlow.Kind.DEPOSIT, "TRANSFER_IN": CapitalFlow.Kind.DEPOSIT,
              "WITHDRAW": CapitalFlow.Kind.WITHDRAWAL, "TRANSFER_OUT": CapitalFlow.Kind.WITHDRAWAL}  # fmt: skip


@dataclass
class ReconcileReport:
    resolved_intents: int = 0
    executions_fetched: int = 0
    positions_corrected: int = 0
    capital_flows: int = 0
    alerts: list[str] = field(default_factory=list)


def reconcile_connection(*, connection: ExchangeConnection) -> ReconcileReport:
    report = ReconcileReport()
    gateway = ExchangeGateway.for_connection(connection)
    bots = list(Bot.objects.filter(connection=connection).exclude(state=Bot.State.DRAFT))
    _resolve_unknown(connection, gateway, report)
    _catch_up_executions(connection, gateway, report)
    _check_positions(connection, gateway, bots, report)
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
    unknown = OrderIntent.objects.filter(
        bot__connection=connection, state=OrderIntent.State.UNKNOWN
    )
    for intent in unknown:
        resolved = intent_resolve(intent=intent, gateway=gateway)
        if resolved.state != OrderIntent.State.UNKNOWN:
            report.resolved_intents += 1
        elif resolved.sent_at and timezone.now() - resolved.sent_at > UNKNOWN_ALERT_AFTER:
            _alert(
                connection, report, "order.unknown", f"Order {resolved.order_link_id} was sent but the exchange "
                "has no record of it yet. We keep checking; an operator confirms it within 24 hours.",
                f"unknown:{resolved.order_link_id}", bot_id=resolved.bot_id,
            )  # fmt: skip


def _catch_up_executions(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> None:
    last = Execution.objects.filter(connection=connection).order_by("-exec_time").first()
    since = last.exec_time - timedelta(minutes=1) if last else timezone.now() - CATCH_UP_DEFAULT
    executions = gateway.executions_since(since)
    execution_store(connection_id=connection.pk, executions=executions, source="rest")
    report.executions_fetched = len(executions)
    executions_hand_over(connection_ids=[connection.pk])


def _check_positions(
    connection: ExchangeConnection,
    gateway: ExchangeGateway,
    bots: list[Bot],
    report: ReconcileReport,
) -> None:
    by_symbol = {b.symbol: b for b in bots}
    for position in gateway.positions():
        signed = position.size if position.side == "Buy" else -position.size
        bot = by_symbol.get(position.symbol)
        if bot is None:
            if signed != 0:
                _alert(
                    connection, report, "position.unintended",
                    f"There is a {position.symbol} position of {signed} on the account that no bot holds.",
                    f"unintended:{connection.pk}:{position.symbol}",
                )  # fmt: skip
            continue
        local, _ = BotPosition.objects.get_or_create(
            bot=bot, symbol=position.symbol, defaults={"tenant_id": bot.tenant_id}
        )
        if local.qty != signed or (signed != 0 and local.avg_price != position.avg_price):
            before = (local.qty, local.avg_price)
            BotPosition.objects.filter(pk=local.pk).update(
                qty=signed, avg_price=position.avg_price if signed else Decimal(0)
            )
            report.positions_corrected += 1
            _alert(
                connection, report, "position.corrected",
                f"{bot.name}: the exchange holds {signed} {position.symbol} where we had {before[0]}; corrected.",
                f"corrected:{bot.pk}", bot_id=bot.pk,
            )  # fmt: skip


def _check_open_orders(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> None:
    for order in gateway.open_orders():
        # Bybit lists a position's TP/SL as conditional orders of their own, without an orderLinkId.
        position_tp_sl = order.stop_order_type in POSITION_TP_SL
        if not order.order_link_id.startswith(OUR_PREFIXES) and not position_tp_sl:
            _alert(
                connection, report, "order.foreign",
                f"An open {order.side} {order.qty} {order.symbol} order was not placed by tradingsvc.",
                f"foreign:{order.order_id}",
            )  # fmt: skip


def _record_capital_flows(
    connection: ExchangeConnection, gateway: ExchangeGateway, report: ReconcileReport
) -> None:
    try:
        entries = gateway.transaction_log().items
    except ExchangeError as exc:
        log.warning(
            "reconcile.transaction_log_failed", connection_id=connection.pk, error=exc.message
        )
        return
    for entry in entries:
        kind = FLOW_TYPES.get(entry.type)
        if kind is None or entry.transaction_time is None:
            continue
        try:
            with transaction.atomic():
                CapitalFlow.objects.create(
                    tenant_id=connection.tenant_id, connection=connection, exchange_id=entry.id, kind=kind,
                    amount=abs(entry.change or entry.cash_flow), at=entry.transaction_time,
                )  # fmt: skip
            report.capital_flows += 1
        except IntegrityError:
            continue


def _alert(
    connection: ExchangeConnection,
    report: ReconcileReport,
    kind: str,
    message: str,
    key: str,
    bot_id: int | None = None,
) -> None:
    if alert_raise(
        tenant_id=connection.tenant_id, bot_id=bot_id, kind=kind, message=message, dedupe_key=key
    ):
        report.alerts.append(kind)
