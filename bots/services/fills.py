"""Applying fills to a bot's position, exactly once, with realised P&L in Decimal.

Fills reach the engine from the private execution stream (through ``exchange.streams``' hook),
from reconciliation's REST catch-up, and, for dry-run bots, from the simulated fill. The same
execution can arrive more than once; the ``BotFill`` row (unique per connection and execution id)
is written in the same transaction as the position change, so it is applied once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction

from bots.models import Bot, BotFill, BotPosition, OrderIntent
from bots.services.live import publish_fill
from bots.services.orders import ORDER_LINK_PREFIX
from exchange.streams.events import ExecutionEvent, StreamEvent

OUR_PREFIXES = (ORDER_LINK_PREFIX, "ks")  # engine orders, kill-switch closes

log = structlog.stdlib.get_logger(__name__)
ZERO = Decimal(0)


@dataclass(frozen=True)
class FillData:
    exec_id: str
    symbol: str
    side: str  # "Buy" | "Sell"
    price: Decimal
    qty: Decimal
    fee: Decimal
    exec_time: datetime


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
    connection_id: int | None,
    simulated: bool = False,
) -> bool:
    """Apply one fill to the bot's position; False when this execution was applied before."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = BotFill.objects.create(
                    tenant_id=bot.tenant_id, bot=bot, intent=intent, connection_id=connection_id,
                    exec_id=fill.exec_id, symbol=fill.symbol, side=fill.side, price=fill.price,
                    qty=fill.qty, fee=fill.fee, simulated=simulated, exec_time=fill.exec_time,
                )  # fmt: skip
        except IntegrityError:
            return False
        position, _ = BotPosition.objects.select_for_update().get_or_create(
            bot=bot, symbol=fill.symbol, defaults={"tenant_id": bot.tenant_id}
        )
        was_flat = position.qty == 0
        position.qty, position.avg_price, realised = position_after(
            position.qty, position.avg_price, fill.side, fill.qty, fill.price
        )
        position.realised_pnl += realised - fill.fee
        position.fees += fill.fee
        if was_flat and position.qty != 0:
            position.opened_at = fill.exec_time
        if position.qty == 0:
            position.opened_at = None
        position.save()
        BotFill.objects.filter(pk=record.pk).update(realised_pnl=realised - fill.fee)
        record.realised_pnl = realised - fill.fee
        transaction.on_commit(lambda: publish_fill(fill=record, position=position))
    log.info(
        "fill.applied", tenant_id=str(bot.tenant_id), bot_id=bot.pk, exec_id=fill.exec_id,
        side=fill.side, qty=str(fill.qty), price=str(fill.price), position=str(position.qty),
    )  # fmt: skip
    return True


def on_stream_event(event: StreamEvent) -> None:
    """``exchange.streams`` hook (``EXCHANGE_STREAM_HANDLERS``): fills of our orders update bots.

    A fill with our ``orderLinkId`` belongs to its intent's bot. A fill without one is the
    position's own TP/SL triggering on the exchange: it belongs to the bot that holds that symbol
    on that key (one bot per key and symbol, as one-way mode holds one position). Fills of orders
    placed by hand (another link id) are left for reconciliation to report.
    """
    if not isinstance(event, ExecutionEvent):
        return
    execution = event.execution
    intent: OrderIntent | None = None
    if execution.order_link_id.startswith(OUR_PREFIXES):
        intent = (
            OrderIntent.objects.select_related("bot")
            .filter(order_link_id=execution.order_link_id)
            .first()
        )
        bot = intent.bot if intent else None
    elif not execution.order_link_id:
        bot = (
            Bot.objects.filter(connection_id=event.connection_id, symbol=execution.symbol)
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
        connection_id=event.connection_id,
        fill=FillData(
            exec_id=execution.exec_id,
            symbol=execution.symbol,
            side=execution.side,
            price=execution.exec_price,
            qty=execution.exec_qty,
            fee=execution.exec_fee,
            exec_time=execution.exec_time,
        ),
    )
