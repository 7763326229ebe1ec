"""Kill switches: global (operator), per tenant (the client's emergency stop), per bot.

Engaging one stops new orders at once: every tick checks for an active switch before acting. Then
open orders of the affected bots are cancelled and, when ``flatten`` is set, their positions are
closed with reduce-only market orders. Those orders are intents like any other, under a
deterministic ``orderLinkId`` per switch and bot, so enforcing a switch twice never doubles them.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Tenant, User
from accounts.services.audit import audit_record
from bots.market import bot_market_environment
from bots.models import Bot, BotPosition, KillSwitch, OrderIntent
from bots.services.fills import FillData, fill_apply
from bots.services.live import publish_bot_event
from bots.services.orders import intent_send, intent_simulate_fill, intent_write
from exchange.errors import ExchangeError
from exchange.gateway import ExchangeGateway
from exchange.selectors import candle_latest

log = structlog.stdlib.get_logger(__name__)


def kill_switch_engage(
    *,
    scope: str,
    by: User | None,
    tenant: Tenant | None = None,
    bot: Bot | None = None,
    flatten: bool = False,
    reason: str = "",
    request: HttpRequest | None = None,
) -> KillSwitch:
    """Engage a switch (new orders stop at once) and enforce it right away."""
    if scope == KillSwitch.Scope.TENANT and tenant is None:
        raise ValueError("A tenant kill switch needs the tenant.")
    if scope == KillSwitch.Scope.BOT and bot is None:
        raise ValueError("A bot kill switch needs the bot.")
    switch = KillSwitch.objects.create(
        scope=scope, tenant=tenant or (bot.tenant if bot else None), bot=bot, flatten=flatten,
        reason=reason, engaged_by=by,
    )  # fmt: skip
    audit_record(
        action=f"kill_switch.engaged_{scope}", actor=by, tenant=switch.tenant, target=switch, request=request,
        after={"flatten": flatten, "reason": reason},
    )  # fmt: skip
    kill_switch_enforce(switch=switch)
    if switch.tenant_id is not None:
        publish_bot_event(tenant_id=switch.tenant_id, bot_id=switch.bot_id, kind="kill_switch")
    return switch


def kill_switch_release(
    *, switch: KillSwitch, by: User | None, request: HttpRequest | None = None
) -> None:
    if switch.active:
        KillSwitch.objects.filter(pk=switch.pk).update(active=False, released_at=timezone.now())
        audit_record(
            action=f"kill_switch.released_{switch.scope}", actor=by, tenant=switch.tenant, target=switch,
            request=request,
        )  # fmt: skip
        if switch.tenant_id is not None:
            publish_bot_event(tenant_id=switch.tenant_id, bot_id=switch.bot_id, kind="kill_switch")


def affected_bots(switch: KillSwitch) -> QuerySet[Bot]:
    bots = Bot.objects.exclude(state__in=[Bot.State.DRAFT, Bot.State.STOPPED]).select_related(
        "connection"
    )
    if switch.scope == KillSwitch.Scope.BOT:
        return bots.filter(pk=switch.bot_id)
    if switch.scope == KillSwitch.Scope.TENANT:
        return bots.filter(tenant_id=switch.tenant_id)
    return bots


def kill_switch_enforce(*, switch: KillSwitch) -> dict[str, int]:
    """Cancel open orders and (if asked) flatten, bot by bot; one bot's failure never stops the rest."""
    counts = {"bots": 0, "cancelled": 0, "flattened": 0, "failed": 0}
    for bot in affected_bots(switch):
        counts["bots"] += 1
        try:
            if bot.mode == Bot.Mode.LIVE and bot.connection is not None:
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
    log.warning("kill_switch.enforced", scope=switch.scope, switch_id=switch.pk, **counts)
    return counts


def _live_gateway(bot: Bot) -> ExchangeGateway:
    if bot.connection is None:
        raise ValueError(f"bot {bot.pk} is live without an exchange key")
    return ExchangeGateway.for_connection(bot.connection)


def _cancel_open_orders(bot: Bot) -> int:
    return len(_live_gateway(bot).cancel_all_orders(bot.symbol))


def _flatten_intent(switch: KillSwitch, bot: Bot, qty: Decimal) -> OrderIntent:
    """The reduce-only close, written once per switch and bot."""
    return intent_write(
        f"ks{switch.pk:x}-{bot.pk:x}",
        tenant_id=bot.tenant_id, bot=bot, symbol=bot.symbol, side="Sell" if qty > 0 else "Buy",
        qty=abs(qty), reduce_only=True,
        reason=f"Kill switch ({switch.get_scope_display().lower()}): closing the position.",
    )  # fmt: skip


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
        bot=bot, intent=intent, connection_id=None, simulated=True,
        fill=FillData(
            exec_id=f"sim-{intent.order_link_id}", symbol=bot.symbol, side=intent.side, price=candle.close,
            qty=intent.qty, fee=Decimal(0), exec_time=timezone.now(),
        ),
    )  # fmt: skip
    return 1
