"""Typed stream events and the hook through which the engine receives them.

The engine (issue 7) registers callables in ``EXCHANGE_STREAM_HANDLERS`` (dotted paths). Each is
called with one event, in the stream process's main thread (never the socket thread), after the
event's data is stored. Executions are handed over at least once: a handler that raises leaves the
execution unhandled and it is offered again on the next pass, so handlers must be idempotent by
``exec_id`` (the stored ``Execution`` row's unique key makes that easy).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import structlog
from django.conf import settings
from django.utils.module_loading import import_string

from exchange.types import Execution, Kline, Order, Position, Ticker, WalletBalance

log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class ExecutionEvent:
    """A fill on an exchange account, with the key it arrived through."""

    connection_id: int
    execution: Execution
    account_id: int | None = None


@dataclass(frozen=True)
class OrderEvent:
    connection_id: int
    order: Order


@dataclass(frozen=True)
class PositionEvent:
    connection_id: int
    position: Position


@dataclass(frozen=True)
class WalletEvent:
    connection_id: int
    wallet: WalletBalance


@dataclass(frozen=True)
class KlineEvent:
    kline: Kline
    confirmed: bool
    environment: str = "mainnet"  # the market-data environment the candle belongs to


@dataclass(frozen=True)
class TickerEvent:
    ticker: Ticker
    environment: str = "mainnet"


StreamEvent = ExecutionEvent | OrderEvent | PositionEvent | WalletEvent | KlineEvent | TickerEvent


@cache
def _handlers(paths: tuple[str, ...]) -> list[Any]:
    return [import_string(p) for p in paths]


def handlers() -> list[Any]:
    return _handlers(tuple(settings.EXCHANGE_STREAM_HANDLERS))


def dispatch(event: StreamEvent, *, raise_errors: bool = False) -> bool:
    """Call every handler; True if all succeeded. Errors are logged (and raised if asked)."""
    ok = True
    try:
        registered = handlers()
    except ImportError:
        # A misconfigured hook must not lose data: executions stay unhandled and are offered again.
        log.exception("exchange.stream_handler_missing", paths=settings.EXCHANGE_STREAM_HANDLERS)
        if raise_errors:
            raise
        return False
    for handler in registered:
        try:
            handler(event)
        except Exception:
            ok = False
            log.exception("exchange.stream_handler_failed", event_type=type(event).__name__)
            if raise_errors:
                raise
    return ok
