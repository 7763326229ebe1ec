"""The one way a lower layer tells a higher one something: typed events, handlers named in settings.

A lower app defines its events as frozen dataclasses (``exchange.streams.events``,
``exchange.events``, ``bots.events``) and calls :func:`dispatch` or :func:`call_handlers` with the
name of a setting that lists handler paths. The higher app writes the handler and the settings name
it, so the lower app never imports the higher one and the import contract (``pyproject.toml``)
holds. No registries, no local imports of a higher layer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import structlog
from django.conf import settings
from django.utils.module_loading import import_string

log = structlog.stdlib.get_logger(__name__)

Handler = Callable[[Any], Any]


@cache
def _imported(paths: tuple[str, ...]) -> list[Handler]:
    return [import_string(p) for p in paths]


def handlers(setting: str) -> list[Handler]:
    """The callables that the setting ``setting`` names (a list of dotted paths)."""
    return _imported(tuple(getattr(settings, setting)))


def call_handlers(setting: str, event: object) -> list[Any]:
    """Call every handler in order and return their results; an error propagates to the caller.

    For events inside a transaction whose work must all happen or none (a key rotation)."""
    return [handler(event) for handler in handlers(setting)]


def dispatch(setting: str, event: object, *, raise_errors: bool = False) -> bool:
    """Call every handler; True if all succeeded. Errors are logged (and raised if asked)."""
    ok = True
    try:
        registered = handlers(setting)
    except ImportError:
        log.exception("events.handler_missing", setting=setting, paths=getattr(settings, setting))
        if raise_errors:
            raise
        return False
    for handler in registered:
        try:
            handler(event)
        except Exception:
            ok = False
            log.exception("events.handler_failed", setting=setting, event_type=type(event).__name__)
            if raise_errors:
                raise
    return ok
