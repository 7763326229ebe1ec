"""The bot lifecycle: draft -> running <-> paused -> stopped, plus error; every move audited.

``error`` is where the engine puts a bot that cannot trade on its own (ticks failing again and
again, a key the exchange refuses, margin refused on every try): it is not ticked, like a paused
bot, until the client fixes the cause and resumes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.services.audit import audit_record
from bots.market import bot_lookback, bot_market_environment
from bots.models import Bot
from bots.services.live import publish_bot_event
from exchange.models import ExchangeConnection
from exchange.services.market_data import market_data_subscribe, market_data_unsubscribe
from tradingsvc.lib.phrases import phrases_json

State = Bot.State
ALLOWED: dict[str, set[str]] = {
    State.DRAFT: {State.RUNNING, State.STOPPED},
    State.RUNNING: {State.PAUSED, State.STOPPED, State.ERROR},
    State.PAUSED: {State.RUNNING, State.STOPPED, State.ERROR},
    State.ERROR: {State.RUNNING, State.PAUSED, State.STOPPED},
    State.STOPPED: set(),
}


class TransitionRefused(ValueError):
    """Why the bot cannot move to that state, in words."""


@transaction.atomic
def bot_transition(
    *, bot: Bot, to: str, by: object = None, reason: str = "", request: HttpRequest | None = None
) -> Bot:
    """Move a bot to ``to`` if the lifecycle allows it; starting live needs a working key.

    A ``reason`` that is a ``Phrase`` is also kept as its code, so pages say it in the reader's
    language (``bots.texts``)."""
    bot = (
        Bot.objects.select_for_update(of=("self",))
        .select_related("connection", "tenant")
        .get(pk=bot.pk)
    )
    if bot.state == to:
        return bot
    if to not in ALLOWED[bot.state]:
        raise TransitionRefused(
            _("A %(state)s bot cannot be set to %(target)s.")
            % {
                "state": bot.get_state_display().lower(),
                "target": str(dict(State.choices).get(to, to)).lower(),
            }
        )
    if to == State.RUNNING and not bot.tenant.trades:
        raise TransitionRefused(
            _("This account is %(status)s: its bots cannot be started.")
            % {"status": bot.tenant.get_status_display().lower()}
        )
    live_start = to == State.RUNNING and bot.mode == Bot.Mode.LIVE
    if live_start and (
        bot.connection is None or bot.connection.status != ExchangeConnection.Status.ACTIVE
    ):
        raise TransitionRefused(_("Connect a working exchange key before starting the bot live."))
    before = {"state": bot.state}
    if to == State.RUNNING and bot.state == State.PAUSED:
        from bots.services.books import breaker_resume

        breaker_resume(bot=bot, by=by if getattr(by, "pk", None) else None, request=request)  # type: ignore[arg-type]
    if to == State.RUNNING:
        # The candle sync fetches what running bots need, in the bot's own environment and to
        # its strategy's lookback; a pair lacking that depth is synced at once (after commit).
        market_data_subscribe(
            environment=bot_market_environment(bot),
            symbol=bot.symbol,
            interval=bot.timeframe,
            consumer=f"bot:{bot.pk}",
            lookback=bot_lookback(bot),
        )
    elif to == State.STOPPED:
        market_data_unsubscribe(consumer=f"bot:{bot.pk}")
    bot.state = to
    bot.state_reason = reason
    bot.state_reason_codes = phrases_json([reason])
    if to == State.RUNNING:
        bot.failure_streak = 0  # a resumed bot starts counting failures afresh
    bot.save(
        update_fields=[
            "state",
            "state_reason",
            "state_reason_codes",
            "failure_streak",
            "updated_at",
        ]
    )
    actor = by if getattr(by, "pk", None) else None
    audit_record(
        action=f"bot.{to}",
        actor=actor,  # type: ignore[arg-type]
        tenant=bot.tenant,
        target=bot,
        request=request,
        before=before,
        after={"state": to, "reason": reason},
    )
    transaction.on_commit(
        partial(publish_bot_event, tenant_id=bot.tenant_id, bot_id=bot.pk, kind="bot")
    )
    return bot


def bot_error(
    *,
    bot: Bot,
    kind: str,
    params: Mapping[str, Any],
    reason: str,
    alert: bool = True,
) -> bool:
    """Put a bot that cannot trade in the error state, with one alert to its client and the staff.

    The alert (``kind`` with ``params``, see ``bots.services.alerts``) says what to do; while it is
    open a second error of the same bot adds none. ``alert=False`` when the caller raises one alert
    for several bots (a key refused for all of them). Returns False if the bot was not running or
    paused (already in error, stopped or a draft): nothing changes then.
    """
    from bots.services.alerts import alert_raise

    if bot.state not in (State.RUNNING, State.PAUSED):
        return False
    try:
        bot_transition(bot=bot, to=State.ERROR, reason=reason)
    except TransitionRefused:
        return False
    if alert:
        alert_raise(
            tenant_id=bot.tenant_id,
            bot_id=bot.pk,
            kind=kind,
            params=params,
            severity="critical",
            dedupe_key=f"bot_error:{bot.pk}",
            notify_operator=True,
        )
    return True
