"""Words a strategy shows to clients, kept as English plus parameters and translated when shown.

Strategies import no Django, so they cannot translate. ``_`` marks a message (``makemessages``
finds it) and returns a :class:`Text`: a ``str`` whose value is the English rendering, which also
keeps the message and its parameters, so the pages render it in the reader's language
(``bots.texts.rendered``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Text(str):
    """An English message with its parameters; ``str`` operations see the English text."""

    message: str
    params: Mapping[str, Any]

    def __new__(cls, message: str, params: Mapping[str, Any] | None = None) -> Text:
        text = super().__new__(cls, message % params if params else message)
        text.message, text.params = message, dict(params or {})
        return text

    def __mod__(self, params: Any) -> Text:
        return Text(self.message, params)


def _(message: str) -> Text:
    return Text(message)
