"""Orders that never double: written as intents first, sent once, unknown outcomes asked about.

1. ``intents_write`` stores one ``OrderIntent`` per leg under a deterministic ``orderLinkId``
   (bot, candle, leg), so a retried or duplicated tick finds the same rows instead of new ones.
2. ``intent_send`` claims the send with a conditional UPDATE (PENDING -> UNKNOWN, committed
   *before* any I/O), then sends. A definite answer moves it to SENT or REJECTED; anything else
   leaves it UNKNOWN. A worker killed mid-send therefore leaves UNKNOWN, never PENDING, and nothing
   ever sends an UNKNOWN intent again.
3. ``intent_resolve`` asks the exchange for the ``orderLinkId`` (open orders, then history) and
   records what it learns; Bybit keeps cancelled or rejected orders only 24 h, so unknown intents
   are checked promptly and alerted on if they stay unknown.

Dry-run bots write the same intents and "fill" them at the candle's close without sending.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Bot, BotTick, OrderIntent
from bots.risk import OrderLeg
from exchange.errors import (
    AuthenticationError,
    DuplicateOrderLinkIdError,
    ExchangeError,
    InsufficientBalanceError,
    InvalidOrderError,
    PermissionDeniedError,
    RateLimitedError,
)
from exchange.gateway import ExchangeGateway
from exchange.types import Order, OrderRequest

log = structlog.stdlib.get_logger(__name__)

# Answers that mean "not placed": the order certainly does not exist on the exchange. A rate-limit
# answer (10006, or HTTP 403 for the IP) is one too: Bybit refuses before processing. The next
# candle decides again; nothing is re-sent under this orderLinkId.
DEFINITE_REJECTIONS = (
    InvalidOrderError,
    InsufficientBalanceError,
    PermissionDeniedError,
    AuthenticationError,
    RateLimitedError,
)
ORDER_LINK_PREFIX = "ts"


def order_link_id(bot_id: int, candle_start: datetime, leg: int) -> str:
    """``ts<bot hex>-<candle minute hex>-<leg>``: deterministic, at most 36 characters, [A-Za-z0-9-]."""
    minute = int(candle_start.timestamp()) // 60
    value = f"{ORDER_LINK_PREFIX}{bot_id:x}-{minute:x}-{leg}"
    if len(value) > 36:  # Bybit's limit; reachable only with absurd ids
        raise ValueError(f"orderLinkId {value!r} is longer than 36 characters")
    return value


def intents_write(
    *, bot: Bot, tick: BotTick, legs: tuple[OrderLeg, ...], reason: str
) -> list[OrderIntent]:
    """One intent per leg, created once; a second call (redelivered tick) returns the same rows."""
    return [
        intent_write(
            order_link_id(bot.pk, tick.candle_start, leg.leg),
            tenant_id=bot.tenant_id,
            bot=bot,
            tick=tick,
            leg=leg.leg,
            symbol=bot.symbol,
            side=leg.side,
            qty=leg.qty,
            reduce_only=leg.reduce_only,
            stop_loss=leg.stop_loss,
            take_profit=leg.take_profit,
            reason=reason,
        )
        for leg in legs
    ]


def intent_write(link: str, **fields: object) -> OrderIntent:
    """The intent under ``link``, created once: a second writer gets the first one's row."""
    try:
        with transaction.atomic():
            intent, _ = OrderIntent.objects.get_or_create(order_link_id=link, defaults=fields)
    except IntegrityError:
        intent = OrderIntent.objects.get(order_link_id=link)
    return intent


def _request_for(intent: OrderIntent) -> OrderRequest:
    return OrderRequest(
        symbol=intent.symbol,
        side=intent.side,
        order_type=intent.order_type,
        qty=intent.qty,
        order_link_id=intent.order_link_id,
        price=intent.price,
        reduce_only=intent.reduce_only,
        stop_loss=intent.stop_loss,
        take_profit=intent.take_profit,
    )


def intent_send(*, intent: OrderIntent, gateway: ExchangeGateway) -> OrderIntent:
    """Send a PENDING intent exactly once; any other state is left alone (already sent or resolved)."""
    now = timezone.now()
    claimed = OrderIntent.objects.filter(pk=intent.pk, state=OrderIntent.State.PENDING).update(
        state=OrderIntent.State.UNKNOWN, sent_at=now
    )
    intent.refresh_from_db()
    if claimed != 1:
        return intent
    try:
        ack = gateway.place_order(_request_for(intent))
    except DuplicateOrderLinkIdError:
        # The exchange already has this orderLinkId: an earlier attempt landed. Ask, don't resend.
        log.warning(
            "order.duplicate_link", order_link_id=intent.order_link_id, bot_id=intent.bot_id
        )
        return intent_resolve(intent=intent, gateway=gateway)
    except DEFINITE_REJECTIONS as exc:
        _finish(intent, OrderIntent.State.REJECTED, error=exc.message)
        log.warning(
            "order.rejected",
            order_link_id=intent.order_link_id,
            bot_id=intent.bot_id,
            error=exc.message,
        )
        return intent
    except ExchangeError as exc:
        # Unknown outcome: timeouts, dropped replies, 5xx, rate limits at send time. Stay UNKNOWN.
        OrderIntent.objects.filter(pk=intent.pk).update(error=exc.message)
        log.warning(
            "order.unknown_outcome",
            order_link_id=intent.order_link_id,
            bot_id=intent.bot_id,
            error=exc.message,
        )
        intent.refresh_from_db()
        return intent
    OrderIntent.objects.filter(pk=intent.pk, state=OrderIntent.State.UNKNOWN).update(
        state=OrderIntent.State.SENT, exchange_order_id=ack.order_id, error=""
    )
    intent.refresh_from_db()
    return intent


_EXCHANGE_STATUS = {
    "New": OrderIntent.State.SENT,
    "Created": OrderIntent.State.SENT,
    "Untriggered": OrderIntent.State.SENT,
    "Active": OrderIntent.State.SENT,
    "PartiallyFilled": OrderIntent.State.PARTIALLY_FILLED,
    "Filled": OrderIntent.State.FILLED,
    "Cancelled": OrderIntent.State.CANCELLED,
    "PartiallyFilledCanceled": OrderIntent.State.CANCELLED,
    "Deactivated": OrderIntent.State.CANCELLED,
    "Rejected": OrderIntent.State.REJECTED,
}


def intent_apply_order(intent: OrderIntent, order: Order) -> None:
    """Record what the exchange says about the order (status, fills so far)."""
    state = _EXCHANGE_STATUS.get(order.status, OrderIntent.State.SENT)
    updates: dict[str, object] = {
        "state": state,
        "exchange_order_id": order.order_id,
        "filled_qty": order.cum_exec_qty,
        "avg_fill_price": order.avg_price or None,
        "error": order.reject_reason if state == OrderIntent.State.REJECTED else "",
    }
    if state in (OrderIntent.State.FILLED, OrderIntent.State.CANCELLED, OrderIntent.State.REJECTED):
        updates["resolved_at"] = timezone.now()
    OrderIntent.objects.filter(pk=intent.pk).update(**updates)


def intent_resolve(*, intent: OrderIntent, gateway: ExchangeGateway) -> OrderIntent:
    """Ask the exchange about an intent by its orderLinkId; never sends anything."""
    OrderIntent.objects.filter(pk=intent.pk).update(checks=intent.checks + 1)
    try:
        order = gateway.get_order(intent.symbol, order_link_id=intent.order_link_id)
    except ExchangeError as exc:
        OrderIntent.objects.filter(pk=intent.pk).update(
            error=f"Could not check the order yet: {exc.message}"
        )
        intent.refresh_from_db()
        return intent
    if order is not None:
        intent_apply_order(intent, order)
    intent.refresh_from_db()
    return intent


def intent_simulate_fill(*, intent: OrderIntent, price: Decimal) -> OrderIntent:
    """Dry run: record the intended order as filled at ``price`` without sending anything."""
    OrderIntent.objects.filter(pk=intent.pk, state=OrderIntent.State.PENDING).update(
        state=OrderIntent.State.SIMULATED, filled_qty=intent.qty, avg_fill_price=price,
        sent_at=timezone.now(), resolved_at=timezone.now(),
    )  # fmt: skip
    intent.refresh_from_db()
    return intent


def _finish(intent: OrderIntent, state: str, *, error: str = "") -> None:
    OrderIntent.objects.filter(pk=intent.pk).update(
        state=state, error=error, resolved_at=timezone.now()
    )
    intent.refresh_from_db()
