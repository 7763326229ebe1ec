"""Alerts in the reader's language: the stored code and parameters, rendered at display time."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from bots.models import Alert
from bots.services.alerts import alert_text

register = template.Library()


@register.filter
def alert_words(alert: Alert) -> str:
    """The alert's code in words (older alerts without parameters show their stored message)."""
    return alert_text(alert.kind, alert.params or {}, alert.message)


# Tick reasons stored as codes (older ticks hold sentences, shown as they are).
TICK_REASON_TEXT = {
    "skip.tenant_suspended": _("Not decided: the account is suspended, so its bots do not trade."),
    "skip.tenant_disabled": _("Not decided: the account is disabled, so its bots do not trade."),
}


@register.filter
def tick_reasons(reasons: str) -> str:
    """A tick's reasons in words: a known code in the reader's language, else the stored text."""
    return str(TICK_REASON_TEXT.get(reasons, reasons))
