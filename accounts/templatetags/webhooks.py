"""Webhook attempt outcomes: stored as codes, shown in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

OUTCOMES = {
    "delivered": _("Delivered"),
    "http_error": _("Your endpoint answered with an error"),
    "timeout": _("No answer in time"),
    "connection_error": _("Could not connect"),
    "tls_error": _("The certificate was not accepted"),
    "redirect_refused": _("Redirect refused (not followed)"),
    "refused_scheme": _("Refused: not an https address"),
    "refused_address": _("Refused: a private or reserved network"),
    "refused_unresolved": _("Refused: the host name does not resolve"),
    "refused_invalid": _("Refused: not a valid address"),
}


@register.filter
def webhook_outcome(code: str) -> str:
    """The outcome in words; an unknown code is shown as it is."""
    return str(OUTCOMES.get(code, code))
