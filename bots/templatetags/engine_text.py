"""Alerts in the reader's language: the stored code and parameters, rendered at display time."""

from __future__ import annotations

from django import template

from bots.models import Alert
from bots.services.alerts import alert_text

register = template.Library()


@register.filter
def alert_words(alert: Alert) -> str:
    """The alert's code in words (older alerts without parameters show their stored message)."""
    return alert_text(alert.kind, alert.params or {}, alert.message)
