"""The engine's words in the reader's language: stored codes and parameters, rendered when shown.

One filter per kind of stored text, so a template says ``{{ alert|alert_words }}`` once per place;
the sentences themselves are in ``bots.texts``. Rows written before codes existed show their
stored English text.
"""

from __future__ import annotations

from django import template

from bots.models import Alert, Bot, OrderIntent
from bots.services.alerts import alert_text
from bots.texts import exchange_error_render, phrases_render, text_render

register = template.Library()

COULD_NOT_CHECK = "Could not check the order yet:"  # bots.services.orders.COULD_NOT_CHECK


@register.filter
def alert_words(alert: Alert) -> str:
    """The alert's code in words (older alerts without parameters show their stored message)."""
    return alert_text(alert.kind, alert.params or {}, alert.message)


@register.filter
def tick_reasons(reasons: str) -> str:
    """A tick's stored reasons text: a bare code (older skipped ticks) in words, else as it is."""
    return text_render(reasons, fallback=reasons) if reasons else ""


@register.filter
def intent_reason(intent: OrderIntent) -> str:
    """Why the order was placed, in words."""
    return phrases_render(intent.reason_codes, intent.reason)


@register.filter
def intent_error(intent: OrderIntent) -> str:
    """Why the exchange refused the order (or why we could not ask yet), in words; the exchange's
    own text only for an old row that has no code."""
    params = intent.error_params or {}
    if not intent.error:
        return ""
    if params.get("check"):
        error = exchange_error_render(str(params.get("error", "")), params, intent.error)
        return text_render("order.could_not_check", {"error": error}, intent.error)
    if intent.error_code == "unknown_expired":
        return text_render("unknown_expired", fallback=intent.error)
    code = intent.error_code or str(params.get("error", ""))
    if not code:
        return intent.error
    return exchange_error_render(code, params, intent.error)


@register.filter
def state_reason(bot: Bot) -> str:
    """Why the bot is in its state (a breaker, an error), in words."""
    return phrases_render(bot.state_reason_codes, bot.state_reason)
