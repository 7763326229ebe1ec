"""Strategy texts (``bots.strategies.text.Text``) in the reader's language, where pages show them."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext

from bots.strategies.text import Text


def rendered(text: str) -> str:
    """The text in the active language; parameters that are texts themselves are translated too."""
    if not isinstance(text, Text):
        return text
    message = gettext(text.message)
    if not text.params:
        return message
    return message % {k: rendered(v) if isinstance(v, str) else v for k, v in text.params.items()}


def rendered_errors(errors: Mapping[str, str]) -> dict[str, str]:
    return {name: rendered(text) for name, text in errors.items()}
