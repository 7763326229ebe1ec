"""A bot's market-data state and its ticks' no-decision reasons, in the reader's language.

Ticks store the guard's refusal as a code with its figures (``signal["no_decision"]``) and the
pages compute readiness from the candles (``bots.market.bots_readiness``); the words are chosen
here, at display time, like ``accounts.templatetags.audit`` does for audit actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from bots.market import WARMING_UP, Readiness
from bots.models import BotTick
from bots.strategies import NoDecisionCode
from bots.templatetags.engine_text import tick_reasons
from bots.texts import phrases_render

register = template.Library()


def _hhmm(value: datetime | None) -> str:
    return formats.time_format(timezone.localtime(value), "H:i") if value else "?"


@register.filter
def readiness_text(readiness: Readiness | None) -> str:
    """ "Warming up: first decision at about HH:MM" or "Waiting for market data"; "" when ready."""
    if readiness is None:
        return ""
    if readiness.state == WARMING_UP:
        return _("Warming up: first decision at about %(time)s") % {
            "time": _hhmm(readiness.first_decision_at)
        }
    return _("Waiting for market data")


@register.filter
def readiness_of(readiness: dict[int, Readiness], bot_pk: int) -> Readiness | None:
    """One bot's entry of ``bots_readiness`` (templates cannot index a dict by a variable)."""
    return readiness.get(bot_pk) if readiness else None


def no_decision_text(data: Any) -> str:
    """A stored ``no_decision`` (code + figures) in words; "" when there is none."""
    if not isinstance(data, dict) or "code" not in data:
        return ""
    if data["code"] == NoDecisionCode.GAP:
        at = data.get("gap_at")
        return _("No decision: gap at %(time)s in the market data.") % {
            "time": _hhmm(datetime.fromisoformat(at) if at else None)
        }
    return _("No decision: %(have)s of %(need)s candles.") % {
        "have": data.get("have", 0),
        "need": data.get("need", 0),
    }


@register.filter
def tick_reason(tick: BotTick) -> str:
    """What a tick decided and why: its no-decision code in words, else its reasons and error
    (codes in words; an older tick's stored text as it is)."""
    found = no_decision_text((tick.signal or {}).get("no_decision"))
    if found:
        return found
    if tick.reason_codes:
        return phrases_render(tick.reason_codes)
    return (tick_reasons(tick.reasons) if tick.reasons else "") or tick.error
