"""Applying fills to a bot's position, exactly once, with realised P&L in Decimal.

Fills reach the engine from the private execution stream (through ``exchange.streams``' hook),
from reconciliation's REST catch-up, and, for dry-run bots, from the simulated fill. The same
execution can arrive more than once, and through several keys of one account; the ``BotFill`` row
(unique per exchange account and execution id) is written in the same transaction as the position
change, so it is applied once.

A fill reaches a bot only from the bot's own exchange account: the intent it belongs to is looked
up among that account's intents. A fill carrying one of our link ids that is not that account's
(someone reusing another tenant's ids on their own account) is reported and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Alert, Bot, BotFill, BotPosition, OrderIntent
from bots.services.bulk import bulk_set
from bots.services.live import publish_fill
from bots.services.orders import KILL_SWITCH_LINK_PREFIX, ORDER_LINK_PREFIX
from exchange.models import ExchangeAccount, ExchangeConnection
from exchange.streams.events import ExecutionEvent, StreamEvent
from exchange.types import Execution as ExecutionData

OUR_PREFIXES = (ORDER_LINK_PREFIX, KILL_SWITCH_LINK_PREFIX)  # engine orders, kill-switch closes

log = structlog.stdlib.get_logger(__name__)
ZERO = Decimal(0)
# Bybit's execution for a funding settlement: no order of ours, the position's size as its
# quantity and the amount paid as its fee. It moves P&L, never the position.
FUNDING_EXEC_TYPE = "Funding"


@dataclass(frozen=True)
class FillData:
    exec_id: str
    symbol: str
    side: str  # "Buy" | "Sell"
    price: Decimal
    qty: Decimal
    fee: Decimal  # funding: what the position paid (< 0: what it earned)
    exec_time: datetime
    kind: str = BotFill.Kind.TRADE


def position_after(
    qty: Decimal, avg: Decimal, side: str, fill_qty: Decimal, price: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(new signed qty, new average price, realised P&L) after one fill (fees not included)."""
    signed = fill_qty if side == "Buy" else -fill_qty
    if qty == 0 or (qty > 0) == (signed > 0):
        new_qty = qty + signed
        return new_qty, (abs(qty) * avg + fill_qty * price) / abs(new_qty), ZERO
    closed = min(abs(qty), fill_qty)
    direction = Decimal(1) if qty > 0 else Decimal(-1)
    realised = closed * (price - avg) * direction
    new_qty = qty + signed
    if new_qty == 0:
        return ZERO, ZERO, realised
    if (new_qty > 0) != (qty > 0):  # flipped through zero: the rest opens at the fill price
        return new_qty, price, realised
    return new_qty, avg, realised


def fill_apply(
    *,
    bot: Bot,
    fill: FillData,
    intent: OrderIntent | None,
    account_id: int | None = None,
    simulated: bool = False,
) -> bool:
    """Apply one fill to the bot's position; False when this execution was applied before."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = BotFill.objects.create(
                    tenant_id=bot.tenant_id,
                    bot=bot,
                    intent=intent,
                    account_id=account_id,
                    exec_id=fill.exec_id,
                    kind=fill.kind,
                    symbol=fill.symbol,
                    side=fill.side,
                    price=fill.price,
                    qty=fill.qty,
                    fee=fill.fee,
                    simulated=simulated,
                    exec_time=fill.exec_time,
                )
        except IntegrityError:
            return False
        position, _ = BotPosition.objects.select_for_update().get_or_create(
            bot=bot, symbol=fill.symbol, defaults={"tenant_id": bot.tenant_id}
        )
        if fill.kind == BotFill.Kind.FUNDING:  # paid or earned on the position; it stays as it is
            realised = -fill.fee
            position.realised_pnl += realised
        else:
            realised = _position_apply(
                position, fill.side, fill.qty, fill.price, fill.fee, fill.exec_time
            )
        position.save()
        BotFill.objects.filter(pk=record.pk).update(realised_pnl=realised)
        record.realised_pnl = realised
        transaction.on_commit(lambda: publish_fill(fill=record, position=position))
    log.info(
        "fill.applied",
        tenant_id=str(bot.tenant_id),
        bot_id=bot.pk,
        exec_id=fill.exec_id,
        side=fill.side,
        qty=str(fill.qty),
        price=str(fill.price),
        position=str(position.qty),
    )
    return True


def intents_fill_simulated(
    *, intents: Sequence[OrderIntent], prices: Mapping[int, Decimal], exec_time: datetime
) -> list[tuple[BotFill, BotPosition]]:
    """Dry run, for a batch of ticks: fill PENDING intents at their price, in one transaction.

    The intents are locked and moved to SIMULATED in the same transaction that writes their fills
    and positions, so a redelivered or duplicated tick finds them SIMULATED and fills nothing, and
    a worker dying half-way leaves them PENDING with no fill: never one without the other. About
    eight queries whatever the batch size. ``prices`` maps an intent id to its fill price. Returns
    each fill with the position right after it, in intent order, for the live push.
    """
    if not intents:
        return []
    bots = {intent.bot_id: intent.bot for intent in intents}
    now = timezone.now()
    with transaction.atomic():
        locked = {
            i.pk: i
            for i in OrderIntent.objects.select_for_update()
            .filter(pk__in=[intent.pk for intent in intents], state=OrderIntent.State.PENDING)
            .order_by("pk")
        }
        claimed = [locked[intent.pk] for intent in intents if intent.pk in locked]
        if not claimed:
            return []
        for intent in claimed:
            intent.state = OrderIntent.State.SIMULATED
            intent.filled_qty = intent.qty
            intent.avg_fill_price = prices[intent.pk]
            intent.sent_at = intent.resolved_at = now
        bulk_set(claimed, ["state", "filled_qty", "avg_fill_price", "sent_at", "resolved_at"])
        keys = {(intent.bot_id, intent.symbol): intent.tenant_id for intent in claimed}
        BotPosition.objects.bulk_create(
            [BotPosition(tenant_id=t, bot_id=b, symbol=sym) for (b, sym), t in keys.items()],
            ignore_conflicts=True,
        )
        positions = {
            (p.bot_id, p.symbol): p
            for p in BotPosition.objects.select_for_update()
            .filter(bot_id__in={b for b, _ in keys})
            .order_by("pk")
            if (p.bot_id, p.symbol) in keys
        }
        applied: list[tuple[BotFill, BotPosition]] = []
        for intent in claimed:
            position = positions[(intent.bot_id, intent.symbol)]
            price = prices[intent.pk]
            realised = _position_apply(position, intent.side, intent.qty, price, ZERO, exec_time)
            position.updated_at = now
            fill = BotFill(
                tenant_id=intent.tenant_id,
                bot_id=intent.bot_id,
                intent=intent,
                account_id=None,
                exec_id=f"sim-{intent.order_link_id}",
                symbol=intent.symbol,
                side=intent.side,
                price=price,
                qty=intent.qty,
                fee=ZERO,
                simulated=True,
                exec_time=exec_time,
                realised_pnl=realised,
            )
            applied.append((fill, copy.copy(position)))
        BotFill.objects.bulk_create([fill for fill, _ in applied])
        bulk_set(
            list(positions.values()),
            ["qty", "avg_price", "realised_pnl", "fees", "opened_at", "updated_at"],
        )
    for fill, position in applied:
        log.info(
            "fill.applied",
            tenant_id=str(fill.tenant_id),
            bot_id=fill.bot_id,
            exec_id=fill.exec_id,
            side=fill.side,
            qty=str(fill.qty),
            price=str(fill.price),
            position=str(position.qty),
            simulated=True,
        )
    for intent in intents:  # the caller's objects follow what was written
        if intent.pk in locked:
            done = locked[intent.pk]
            intent.state, intent.filled_qty, intent.avg_fill_price = (
                done.state,
                done.filled_qty,
                done.avg_fill_price,
            )
            intent.sent_at = intent.resolved_at = now
            intent.bot = bots[intent.bot_id]
    return applied


def _position_apply(
    position: BotPosition, side: str, qty: Decimal, price: Decimal, fee: Decimal, at: datetime
) -> Decimal:
    """Move ``position`` (in memory) by one fill; returns the fill's realised P&L net of fees."""
    was_flat = position.qty == 0
    position.qty, position.avg_price, realised = position_after(
        position.qty, position.avg_price, side, qty, price
    )
    position.realised_pnl += realised - fee
    position.fees += fee
    if was_flat and position.qty != 0:
        position.opened_at = at
    if position.qty == 0:
        position.opened_at = None
    return realised - fee


def on_stream_event(event: StreamEvent) -> None:
    """``exchange.streams`` hook (``EXCHANGE_STREAM_HANDLERS``): fills of our orders update bots.

    Everything is looked up within the exchange account the fill happened on. A fill with our
    ``orderLinkId`` belongs to the intent of that id among the account's bots; one that matches no
    intent there is foreign (reported, applied to nothing). A funding settlement
    (``execType`` Funding) is P&L of the account's bot holding that symbol. A fill without a link
    id is the position's own TP/SL triggering on the exchange: it belongs to the account's bot
    that holds that symbol (one bot per account and symbol, as one-way mode holds one position).
    Fills of orders placed by hand (another link id) are left for reconciliation to report.
    """
    if not isinstance(event, ExecutionEvent):
        return
    execution = event.execution
    account_id = event.account_id
    if account_id is None:  # an event built without its account: find it from the key
        account_id = (
            ExchangeConnection.objects.filter(pk=event.connection_id)
            .values_list("account_id", flat=True)
            .first()
        )
    if account_id is None:
        return
    intent: OrderIntent | None = None
    funding = execution.exec_type == FUNDING_EXEC_TYPE
    if funding:  # a settlement on the position of the account's bot on that symbol
        bot: Bot | None = (
            Bot.objects.filter(connection__account_id=account_id, symbol=execution.symbol)
            .order_by("-pk")
            .first()
        )
    elif execution.order_link_id.startswith(OUR_PREFIXES):
        intent = (
            OrderIntent.objects.select_related("bot")
            .filter(order_link_id=execution.order_link_id, bot__connection__account_id=account_id)
            .first()
        )
        if intent is None:
            _report_foreign_fill(account_id, execution)
            return
        bot = intent.bot
    elif not execution.order_link_id:
        bot = (
            Bot.objects.filter(connection__account_id=account_id, symbol=execution.symbol)
            .order_by("-pk")
            .first()
        )
    else:
        return
    if bot is None:
        return
    fill_apply(
        bot=bot,
        intent=intent,
        account_id=account_id,
        fill=FillData(
            exec_id=execution.exec_id,
            symbol=execution.symbol,
            side=execution.side,
            price=execution.exec_price,
            qty=execution.exec_qty,
            fee=execution.exec_fee,
            exec_time=execution.exec_time,
            kind=BotFill.Kind.FUNDING if funding else BotFill.Kind.TRADE,
        ),
    )


def _report_foreign_fill(account_id: int, execution: ExecutionData) -> None:
    """A fill under one of our link ids that is not this account's: reported, never applied."""
    from bots.services.alerts import alert_raise

    account = ExchangeAccount.objects.get(pk=account_id)
    log.warning(
        "fill.foreign",
        tenant_id=str(account.tenant_id),
        account_id=account_id,
        exec_id=execution.exec_id,
        order_link_id=execution.order_link_id,
    )
    alert_raise(
        tenant_id=account.tenant_id,
        kind="fill.foreign",
        severity=Alert.Severity.CRITICAL,
        params={
            "side": execution.side,
            "qty": execution.exec_qty,
            "symbol": execution.symbol,
            "link": execution.order_link_id,
        },
        dedupe_key=f"foreign_fill:{account_id}:{execution.exec_id}",
    )
