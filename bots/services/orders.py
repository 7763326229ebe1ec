"""Orders that never double: written as intents first, sent once, unknown outcomes asked about.

1. ``intents_write_many`` stores one ``OrderIntent`` per leg under a deterministic ``orderLinkId``
   (bot, candle, leg), so a retried or duplicated tick finds the same rows instead of new ones.
2. ``intent_send`` claims the send with a conditional UPDATE (PENDING -> UNKNOWN, committed
   *before* any I/O), then sends. A definite answer moves it to SENT or REJECTED; anything else
   leaves it UNKNOWN. A worker killed mid-send therefore leaves UNKNOWN, never PENDING, and nothing
   ever sends an UNKNOWN intent again. ``intents_send_many`` does the same for a chunk of ticks
   with a few sends in flight at once (each claimed just before its own send).
3. ``intent_resolve`` asks the exchange for the ``orderLinkId`` (open orders, then history) and
   records what it learns; Bybit keeps cancelled or rejected orders only 24 h, so unknown intents
   are checked promptly and alerted on if they stay unknown. Past that window with no trace
   (``intent_give_up``) they are no longer asked about and the client and the staff are alerted;
   an operator ends them with ``intent_mark_never_placed`` (audited). None is ever sent again.

Dry-run bots write the same intents and "fill" them at the candle's close without sending
(``bots.services.fills.intents_fill_simulated``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from bots.models import Bot, BotTick, OrderIntent
from bots.risk import OrderLeg
from bots.services.bulk import concrete_fields
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
from exchange.models import ExchangeConnection
from exchange.types import Order, OrderAck, OrderRequest
from tradingsvc.lib.phrases import phrases_json

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
KILL_SWITCH_LINK_PREFIX = "ks"


def _keyed_link(prefix: str, value: str) -> str:
    """``prefix`` + 32 hex of a keyed hash of ``value``: 34 characters, within Bybit's 36.

    Deterministic, so a redelivered tick writes the same intent and a lost reply is looked up by
    it; keyed with the service's secret, so nobody can derive another tenant's ids from what they
    see (bot ids, candle times) and place orders under them.
    """
    digest = salted_hmac("tradingsvc.order_link_id", value, algorithm="sha256").hexdigest()
    return f"{prefix}{digest[:32]}"


COULD_NOT_CHECK = "Could not check the order yet:"


def order_link_id(bot_id: int, candle_start: datetime, leg: int) -> str:
    """The ``orderLinkId`` of one leg of one bot's tick for one candle."""
    minute = int(candle_start.timestamp()) // 60
    return _keyed_link(ORDER_LINK_PREFIX, f"tick:{bot_id}:{minute}:{leg}")


def kill_switch_link_id(switch_id: int, bot_id: int) -> str:
    """The ``orderLinkId`` of a kill switch's reduce-only close of one bot's position."""
    return _keyed_link(KILL_SWITCH_LINK_PREFIX, f"kill_switch:{switch_id}:{bot_id}")


def intents_write_many(
    plans: Sequence[tuple[Bot, BotTick, tuple[OrderLeg, ...], str | Sequence[str]]],
) -> list[OrderIntent]:
    """The intents of several ticks in two queries, in plan and leg order.

    The reason is a text or the decision's reasons (phrases, kept as codes as well as words).

    ``INSERT … ON CONFLICT DO NOTHING`` on the unique ``orderLinkId`` and then reading the rows
    back gives the same guarantee as :func:`intent_write`: a second writer (a redelivered or
    duplicated tick) gets the first one's rows, whatever state they reached, never new ones.
    """
    fresh = [
        OrderIntent(
            order_link_id=order_link_id(bot.pk, tick.candle_start, leg.leg),
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
            reason=reason if isinstance(reason, str) else " ".join(reason),
            reason_codes=phrases_json([reason] if isinstance(reason, str) else reason),
        )
        for bot, tick, legs, reason in plans
        for leg in legs
    ]
    if not fresh:
        return []
    OrderIntent.objects.bulk_create(fresh, ignore_conflicts=True)
    stored = {
        intent.order_link_id: intent
        for intent in OrderIntent.objects.filter(
            order_link_id__in=[intent.order_link_id for intent in fresh]
        )
    }
    bots = {bot.pk: bot for bot, *_ in plans}
    out = []
    for intent in fresh:
        row = stored[intent.order_link_id]
        row.bot = bots[row.bot_id]  # the caller's bot, so nothing reloads it
        out.append(row)
    return out


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
    if not _claim(intent):
        return intent
    return _record(intent, _place(intent, gateway), gateway)


def intents_send_many(
    *, queues: Sequence[tuple[ExchangeGateway, Sequence[OrderIntent]]], threads: int
) -> dict[int, BaseException]:
    """Send many PENDING intents, up to ``threads`` at a time; each exactly as :func:`intent_send`.

    Sends are network waits, so a worker overlaps them; the shared limiter still admits each one.
    Every database step stays in the calling thread: an intent is claimed (committed) right before
    its send is handed to a thread, and the answer is recorded here when it comes back, so a worker
    that dies leaves at most ``threads`` intents UNKNOWN, as one dying mid-send always could.

    Each queue is one gateway's intents in order: one key is never used by two threads at once,
    and a reversal's close leg is answered before its open leg leaves. Returns the intents (by id)
    whose send raised something unexpected; they stay UNKNOWN for reconciliation to ask about.
    """
    failed: dict[int, BaseException] = {}
    waiting = deque((gateway, deque(intents)) for gateway, intents in queues if intents)
    if threads <= 1 or sum(len(legs) for _gateway, legs in waiting) <= 1:
        for gateway, legs in waiting:
            for intent in legs:
                try:
                    intent_send(intent=intent, gateway=gateway)
                except Exception as exc:
                    failed[intent.pk] = exc
        return failed
    pool = _send_pool(threads)
    in_flight: dict[Future[_Outcome], tuple[OrderIntent, ExchangeGateway, deque[OrderIntent]]] = {}

    def start_next(gateway: ExchangeGateway, legs: deque[OrderIntent]) -> None:
        while legs:
            intent = legs.popleft()
            if _claim(intent):
                in_flight[pool.submit(_place, intent, gateway)] = (intent, gateway, legs)
                return

    while waiting or in_flight:
        while waiting and len(in_flight) < threads:
            start_next(*waiting.popleft())
        if not in_flight:
            continue
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            intent, gateway, legs = in_flight.pop(future)
            try:
                _record(intent, future.result(), gateway)
            except Exception as exc:
                failed[intent.pk] = exc
            if legs:
                waiting.appendleft((gateway, legs))
    return failed


_pool: ThreadPoolExecutor | None = None
_pool_key = (0, 0)  # (process id, threads) the pool was made for


def _send_pool(threads: int) -> ThreadPoolExecutor:
    """The process's send threads, made on first use; a forked child (a prefork worker) makes its
    own, as the threads of the parent's pool do not exist in it."""
    global _pool, _pool_key
    if _pool is None or _pool_key != (os.getpid(), threads):
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="order-send")
        _pool_key = (os.getpid(), threads)
    return _pool


def _update_if_state(pk: int, current: str, /, **values: object) -> bool:
    """``UPDATE … WHERE id = pk AND state = current``; True if the row was in that state.

    The same conditional UPDATE as ``filter(pk=…, state=…).update(…)``, written directly: the
    claim and the answer of every order take this path, and the ORM spent ~0.3 ms of CPU building
    each one against ~0.06 ms here, in the thread every send of a worker waits on.
    """
    meta = OrderIntent._meta
    fields = concrete_fields(OrderIntent, list(values))
    assignments = ", ".join(f'"{field.column}" = %s' for field in fields)
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{meta.db_table}" SET {assignments} WHERE "id" = %s AND "state" = %s',  # noqa: S608 - model names
            [*params, pk, current],
        )
        return int(cursor.rowcount) == 1


def _claim(intent: OrderIntent) -> bool:
    """PENDING -> UNKNOWN, committed before any I/O; False if another run owns or resolved it."""
    now = timezone.now()
    claimed = _update_if_state(
        intent.pk, OrderIntent.State.PENDING, state=OrderIntent.State.UNKNOWN, sent_at=now
    )
    if not claimed:
        intent.refresh_from_db()
        return False
    intent.state, intent.sent_at = OrderIntent.State.UNKNOWN, now
    return True


@dataclass(frozen=True)
class _Outcome:
    ack: OrderAck | None = None
    error: ExchangeError | None = None


def _place(intent: OrderIntent, gateway: ExchangeGateway) -> _Outcome:
    """The network part of a send (no database): an ack, or the exchange's error."""
    try:
        return _Outcome(ack=gateway.place_order(_request_for(intent)))
    except ExchangeError as exc:
        return _Outcome(error=exc)


def _record(intent: OrderIntent, outcome: _Outcome, gateway: ExchangeGateway) -> OrderIntent:
    """What the answer means for a claimed intent; only a definite one moves it off UNKNOWN."""
    exc = outcome.error
    if isinstance(exc, DuplicateOrderLinkIdError):
        # The exchange already has this orderLinkId: an earlier attempt landed. Ask, don't resend.
        log.warning(
            "order.duplicate_link", order_link_id=intent.order_link_id, bot_id=intent.bot_id
        )
        return intent_resolve(intent=intent, gateway=gateway)
    if isinstance(exc, DEFINITE_REJECTIONS):
        params = _error_params(exc)
        _finish(
            intent,
            OrderIntent.State.REJECTED,
            error=exc.message,
            code=type(exc).__name__,
            params=params,
        )
        log.warning(
            "order.rejected",
            order_link_id=intent.order_link_id,
            bot_id=intent.bot_id,
            error=exc.message,
        )
        return intent
    if exc is not None:
        # Unknown outcome: timeouts, dropped replies, 5xx. Stay UNKNOWN.
        OrderIntent.objects.filter(pk=intent.pk).update(
            error=exc.message, error_params=_error_params(exc)
        )
        intent.error, intent.error_params = exc.message, _error_params(exc)
        log.warning(
            "order.unknown_outcome",
            order_link_id=intent.order_link_id,
            bot_id=intent.bot_id,
            error=exc.message,
        )
        return intent
    assert outcome.ack is not None  # noqa: S101 - _place returns an ack or an error
    sent = _update_if_state(
        intent.pk,
        OrderIntent.State.UNKNOWN,
        state=OrderIntent.State.SENT,
        exchange_order_id=outcome.ack.order_id,
        error="",
    )
    if sent:
        intent.state, intent.exchange_order_id, intent.error = (
            OrderIntent.State.SENT,
            outcome.ack.order_id,
            "",
        )
    else:  # resolved meanwhile (e.g. by reconciliation or a fill): keep what it found
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
    if state == OrderIntent.State.REJECTED:
        updates["error_code"] = "order.rejected"
        updates["error_params"] = {"reason": order.reject_reason}
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
            error=f"{COULD_NOT_CHECK} {exc.message}",
            error_params={**_error_params(exc), "check": True},
        )
        intent.refresh_from_db()
        return intent
    if order is not None:
        intent_apply_order(intent, order)
    intent.refresh_from_db()
    return intent


# Bybit answers about a cancelled or rejected order without fills for 24 hours only: after that,
# an intent whose order was never found will never be found, and asking again is useless.
UNKNOWN_LOOKUP_WINDOW = timedelta(hours=24)
UNKNOWN_EXPIRED = "unknown_expired"  # error_code of an UNKNOWN intent no longer asked about


def intents_past_lookup_window(
    *, connection_id: int, now: datetime | None = None
) -> list[OrderIntent]:
    """UNKNOWN intents of a key sent longer ago than Bybit's look-up window, not yet given up."""
    cutoff = (now or timezone.now()) - UNKNOWN_LOOKUP_WINDOW
    return list(
        OrderIntent.objects.filter(
            bot__connection_id=connection_id, state=OrderIntent.State.UNKNOWN, sent_at__lt=cutoff
        )
        .exclude(error_code=UNKNOWN_EXPIRED)
        .select_related("bot")
    )


def intent_give_up(*, intent: OrderIntent, gateway: ExchangeGateway) -> bool:
    """Ask one last time; if the exchange still has no trace, stop asking and alert the client
    and the staff (an operator marks it never placed). Returns True if it was given up now.

    It stays UNKNOWN (only an operator's word ends it) and is never sent again: sending takes
    PENDING intents only, and the next candle decides under its own orderLinkId."""
    from bots.services.alerts import alert_raise

    resolved = intent_resolve(intent=intent, gateway=gateway)
    if resolved.state != OrderIntent.State.UNKNOWN or resolved.error.startswith(COULD_NOT_CHECK):
        return False  # found after all, or the exchange could not be asked: next run
    given_up = (
        OrderIntent.objects.filter(pk=intent.pk, state=OrderIntent.State.UNKNOWN)
        .exclude(error_code=UNKNOWN_EXPIRED)
        .update(error_code=UNKNOWN_EXPIRED)
    )
    if not given_up:
        return False
    log.error("order.unknown_expired", order_link_id=intent.order_link_id, bot_id=intent.bot_id)
    alert_raise(
        tenant_id=intent.tenant_id,
        bot_id=intent.bot_id,
        kind="order.unknown_expired",
        severity="critical",
        params={"link": intent.order_link_id, "bot": intent.bot.name},
        dedupe_key=f"unknown_expired:{intent.order_link_id}",
        notify_operator=True,
    )
    return True


class NeverPlacedRefused(ValueError):
    """Why the operator cannot mark this intent never placed (yet)."""


def intent_mark_never_placed(
    *, intent: OrderIntent, by: User, request: HttpRequest | None = None
) -> OrderIntent:
    """The operator's word on an intent given up after the look-up window: it was never placed.

    Only an UNKNOWN intent past the window qualifies; the exchange is asked once more first, so a
    late trace wins over the operator's word. Audited; the intent is never sent again."""
    from accounts.services.audit import audit_record

    intent = OrderIntent.objects.select_related("bot__connection", "tenant").get(pk=intent.pk)
    if intent.state != OrderIntent.State.UNKNOWN or intent.error_code != UNKNOWN_EXPIRED:
        raise NeverPlacedRefused(
            f"{intent.order_link_id} is {intent.get_state_display().lower()}; only an order "
            "unknown past the exchange's 24-hour look-up window can be marked never placed."
        )
    key = intent.bot.connection
    if key is not None and key.status != ExchangeConnection.Status.RETIRED:
        checked = intent_resolve(intent=intent, gateway=ExchangeGateway.for_connection(key))
        if checked.error.startswith(COULD_NOT_CHECK):
            raise NeverPlacedRefused(f"{intent.order_link_id}: {checked.error} Try again.")
        if checked.state != OrderIntent.State.UNKNOWN:
            raise NeverPlacedRefused(
                f"{intent.order_link_id}: the exchange knows it after all "
                f"({checked.get_state_display().lower()}); recorded that instead."
            )
    now = timezone.now()
    if not _update_if_state(
        intent.pk, OrderIntent.State.UNKNOWN, state=OrderIntent.State.NEVER_PLACED, resolved_at=now
    ):
        raise NeverPlacedRefused(f"{intent.order_link_id} was resolved meanwhile.")
    audit_record(
        action="intent.never_placed",
        actor=by,
        tenant=intent.tenant,
        target=intent,
        request=request,
        before={"state": OrderIntent.State.UNKNOWN},
        after={"state": OrderIntent.State.NEVER_PLACED, "order_link_id": intent.order_link_id},
    )
    intent.refresh_from_db()
    return intent


def intent_simulate_fill(*, intent: OrderIntent, price: Decimal) -> OrderIntent:
    """Dry run: record the intended order as filled at ``price`` without sending anything."""
    OrderIntent.objects.filter(pk=intent.pk, state=OrderIntent.State.PENDING).update(
        state=OrderIntent.State.SIMULATED,
        filled_qty=intent.qty,
        avg_fill_price=price,
        sent_at=timezone.now(),
        resolved_at=timezone.now(),
    )
    intent.refresh_from_db()
    return intent


def _error_params(exc: ExchangeError) -> dict[str, object]:
    """What a page needs to say the error in the reader's language (``bots.texts``): the error's
    class and Bybit's retCode; ``message`` keeps the words for the operators."""
    return {"error": type(exc).__name__, "ret_code": exc.ret_code}


def _finish(
    intent: OrderIntent,
    state: str,
    *,
    error: str = "",
    code: str = "",
    params: dict[str, object] | None = None,
) -> None:
    now = timezone.now()
    OrderIntent.objects.filter(pk=intent.pk).update(
        state=state, error=error, error_code=code, error_params=params or {}, resolved_at=now
    )
    intent.state, intent.error, intent.error_code, intent.resolved_at = state, error, code, now
    intent.error_params = params or {}
