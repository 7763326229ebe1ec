"""Kill switches: global (operator), per tenant (the client's emergency stop), per bot.

Engaging one stops new orders at once: every tick checks for an active switch before acting. Then
open orders of the affected bots are cancelled and, when ``flatten`` is set, their positions are
closed with reduce-only market orders. Those orders are intents like any other, under a
deterministic ``orderLinkId`` per switch and bot, so enforcing a switch twice never doubles them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import partial

import structlog
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Tenant, User
from accounts.services.audit import audit_record
from bots.market import bot_market_environment
from bots.models import Bot, BotPosition, KillSwitch, OrderIntent
from bots.services.fills import FillData, fill_apply
from bots.services.live import publish_bot_event
from bots.services.orders import (
    intent_send,
    intent_simulate_fill,
    intent_write,
    kill_switch_link_id,
)
from bots.texts import phrase
from exchange.errors import ExchangeError
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeConnection
from exchange.selectors import candle_latest
from tradingsvc.lib.phrases import phrases_json

log = structlog.stdlib.get_logger(__name__)


def kill_switch_engage(
    *,
    scope: str,
    by: User | None,
    tenant: Tenant | None = None,
    bot: Bot | None = None,
    flatten: bool = False,
    reason: str = "",
    by_operator: bool = False,
    request: HttpRequest | None = None,
) -> KillSwitch:
    """Engage a switch (new orders stop at once), enforce it right away and push it to the pages.

    The same path for the client's emergency stop and the operator's switches in admin
    (``by_operator``: the client cannot release those). A pass that could not reach the exchange
    for some bot is retried by a task until every bot is done."""
    if scope == KillSwitch.Scope.TENANT and tenant is None:
        raise ValueError("A tenant kill switch needs the tenant.")
    if scope == KillSwitch.Scope.BOT and bot is None:
        raise ValueError("A bot kill switch needs the bot.")
    if scope == KillSwitch.Scope.GLOBAL:
        tenant, bot = None, None
    switch = KillSwitch.objects.create(
        scope=scope,
        tenant=tenant or (bot.tenant if bot else None),
        bot=bot,
        flatten=flatten,
        reason=reason,
        engaged_by=by,
        by_operator=by_operator,
    )
    audit_record(
        action=f"kill_switch.engaged_{scope}",
        actor=by,
        tenant=switch.tenant,
        target=switch,
        request=request,
        after={"flatten": flatten, "reason": reason, "by_operator": by_operator},
    )
    kill_switch_enforce(switch=switch)
    _publish(switch)
    return switch


def kill_switch_release(
    *, switch: KillSwitch, by: User | None, request: HttpRequest | None = None
) -> None:
    if KillSwitch.objects.filter(pk=switch.pk, active=True).update(
        active=False, released_at=timezone.now()
    ):
        switch.active = False
        audit_record(
            action=f"kill_switch.released_{switch.scope}",
            actor=by,
            tenant=switch.tenant,
            target=switch,
            request=request,
        )
        _publish(switch)


def _publish(switch: KillSwitch) -> None:
    """Tell the open pages of every tenant the switch touches (all of them, for a global one)."""
    if switch.tenant_id is not None:
        tenants = [switch.tenant_id]
    else:
        tenants = list(
            Bot.objects.exclude(state=Bot.State.DRAFT)
            .order_by()
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenants:
        publish_bot_event(tenant_id=tenant_id, bot_id=switch.bot_id, kind="kill_switch")


def affected_bots(switch: KillSwitch) -> QuerySet[Bot]:
    bots = Bot.objects.exclude(state__in=[Bot.State.DRAFT, Bot.State.STOPPED]).select_related(
        "connection"
    )
    if switch.scope == KillSwitch.Scope.BOT:
        return bots.filter(pk=switch.bot_id)
    if switch.scope == KillSwitch.Scope.TENANT:
        return bots.filter(tenant_id=switch.tenant_id)
    return bots


class KillSwitchIncomplete(Exception):
    """Some bots' orders could not be cancelled or closed yet: the enforcement task retries."""


def kill_switch_enforce(*, switch: KillSwitch, retry: bool = True) -> dict[str, int]:
    """Cancel open orders and (if asked) flatten, bot by bot; one bot's failure never stops the
    rest. Safe to repeat: cancelling twice is harmless and the flatten intent is one per switch
    and bot. Records the pass's counts; when none failed the switch is ``enforced_at``, else the
    enforcement task is queued to try again."""
    counts = {"bots": 0, "cancelled": 0, "flattened": 0, "failed": 0, "skipped": 0}
    if not KillSwitch.objects.filter(pk=switch.pk, active=True).exists():
        return counts  # released meanwhile: nothing to enforce
    for bot in affected_bots(switch):
        counts["bots"] += 1
        try:
            if bot.mode == Bot.Mode.LIVE and bot.connection is not None:
                if bot.connection.status == ExchangeConnection.Status.RETIRED:
                    counts["skipped"] += 1  # its key is gone: nothing can be sent with it
                    continue
                counts["cancelled"] += _cancel_open_orders(bot)
                if switch.flatten:
                    counts["flattened"] += _flatten_live(switch, bot)
            elif switch.flatten:
                counts["flattened"] += _flatten_dry_run(switch, bot)
        except ExchangeError as exc:
            counts["failed"] += 1
            log.error(
                "kill_switch.enforce_failed",
                tenant_id=str(bot.tenant_id),
                bot_id=bot.pk,
                error=exc.message,
            )
    done = counts["failed"] == 0
    KillSwitch.objects.filter(pk=switch.pk).update(
        progress={**counts, "at": timezone.now().isoformat()},
        enforced_at=timezone.now() if done else None,
    )
    log.warning("kill_switch.enforced", scope=switch.scope, switch_id=switch.pk, **counts)
    if not done and retry:  # (the task itself retries by raising)
        from bots.tasks import enforce_kill_switch

        transaction.on_commit(partial(enforce_kill_switch.delay, switch_id=switch.pk))
    return counts


def _live_gateway(bot: Bot) -> ExchangeGateway:
    if bot.connection is None:
        raise ValueError(f"bot {bot.pk} is live without an exchange key")
    return ExchangeGateway.for_connection(bot.connection)


def _cancel_open_orders(bot: Bot) -> int:
    return len(_live_gateway(bot).cancel_all_orders(bot.symbol))


def _flatten_intent(switch: KillSwitch, bot: Bot, qty: Decimal) -> OrderIntent:
    """The reduce-only close, written once per switch and bot."""
    said = phrase(f"protection.flatten.{switch.scope}")
    return intent_write(
        kill_switch_link_id(switch.pk, bot.pk),
        tenant_id=bot.tenant_id,
        bot=bot,
        symbol=bot.symbol,
        side="Sell" if qty > 0 else "Buy",
        qty=abs(qty),
        reduce_only=True,
        reason=said,
        reason_codes=phrases_json([said]),
    )


def _flatten_live(switch: KillSwitch, bot: Bot) -> int:
    """The exchange's position is authoritative for what to close."""
    gateway = _live_gateway(bot)
    closed = 0
    for position in gateway.positions(bot.symbol):
        if position.size == 0:
            continue
        signed = position.size if position.side == "Buy" else -position.size
        intent_send(intent=_flatten_intent(switch, bot, signed), gateway=gateway)
        closed += 1
    return closed


def _flatten_dry_run(switch: KillSwitch, bot: Bot) -> int:
    position = BotPosition.objects.filter(bot=bot, symbol=bot.symbol).first()
    if position is None or position.qty == 0:
        return 0
    candle = candle_latest(
        environment=bot_market_environment(bot), symbol=bot.symbol, interval=bot.timeframe
    )
    if candle is None:
        return 0
    intent = _flatten_intent(switch, bot, position.qty)
    if intent.state != OrderIntent.State.PENDING:
        return 0
    intent = intent_simulate_fill(intent=intent, price=candle.close)
    fill_apply(
        bot=bot,
        intent=intent,
        simulated=True,
        fill=FillData(
            exec_id=f"sim-{intent.order_link_id}",
            symbol=bot.symbol,
            side=intent.side,
            price=candle.close,
            qty=intent.qty,
            fee=Decimal(0),
            exec_time=timezone.now(),
        ),
    )
    return 1


def connection_orders_halt(*, connection: ExchangeConnection) -> int:
    """Cancel every open order of the live bots on one key of a tenant that no longer trades.

    Raises ``ExchangeError`` when the exchange could not be asked, so the caller retries;
    a retired key (its material erased) has nothing left to cancel with. Returns orders cancelled.
    """
    if connection.status == ExchangeConnection.Status.RETIRED:
        return 0
    symbols = set(
        Bot.objects.filter(connection=connection, mode=Bot.Mode.LIVE)
        .exclude(state=Bot.State.DRAFT)
        .values_list("symbol", flat=True)
    )
    if not symbols:
        return 0
    gateway = ExchangeGateway.for_connection(connection)
    return sum(len(gateway.cancel_all_orders(symbol)) for symbol in sorted(symbols))


class HaltIncomplete(Exception):
    """Some of a halted tenant's keys could not cancel yet: the task retries."""


def tenant_trading_halt(*, tenant_id: uuid.UUID) -> dict[str, int]:
    """A tenant that stopped trading (suspended, disabled, erased): cancel its open orders.

    No new tick reaches its bots (dispatch and the tick check the status); this takes away what
    is already on the book. Positions stay, with their exchange-side TP/SL, and reconciliation
    keeps their books right (and cancels again each run, should an order appear meanwhile).
    """
    counts = {"connections": 0, "cancelled": 0, "failed": 0}
    tenant = Tenant.objects.get(pk=tenant_id)
    if tenant.trades:
        return counts
    for connection in ExchangeConnection.objects.filter(tenant_id=tenant_id).exclude(
        status=ExchangeConnection.Status.RETIRED
    ):
        counts["connections"] += 1
        try:
            counts["cancelled"] += connection_orders_halt(connection=connection)
        except ExchangeError as exc:
            counts["failed"] += 1
            log.warning(
                "tenant_halt.cancel_failed",
                tenant_id=str(tenant_id),
                connection_id=connection.pk,
                error=exc.message,
            )
    log.warning("tenant_halt.done", tenant_id=str(tenant_id), **counts)
    if counts["failed"]:
        raise HaltIncomplete(f"{counts['failed']} key(s) could not cancel yet")
    return counts
