"""Typed events about exchange keys, for the apps above the exchange (the engine follows its keys).

Handlers are named in ``EXCHANGE_KEY_HANDLERS`` and called through ``tradingsvc.lib.events``, the
one inversion mechanism (the stream events in ``exchange.streams.events`` work the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.models import ExchangeConnection
from tradingsvc.lib import events


@dataclass(frozen=True)
class KeyChecked:
    """A stored key was re-validated; its status and last error are saved on the connection."""

    connection: ExchangeConnection


@dataclass(frozen=True)
class KeyReplaced:
    """Inside the rotation's transaction: whatever used ``old`` must now use ``new``.

    A handler returns how many rows it switched; an error rolls the whole rotation back."""

    old: ExchangeConnection
    new: ExchangeConnection


KeyEvent = KeyChecked | KeyReplaced


def key_checked(connection: ExchangeConnection) -> None:
    events.dispatch("EXCHANGE_KEY_HANDLERS", KeyChecked(connection=connection), raise_errors=True)


def key_replaced(*, old: ExchangeConnection, new: ExchangeConnection) -> int:
    """Tell every handler; returns the rows they switched."""
    results = events.call_handlers("EXCHANGE_KEY_HANDLERS", KeyReplaced(old=old, new=new))
    return sum(int(r or 0) for r in results)
