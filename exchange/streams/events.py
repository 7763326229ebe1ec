"""Typed stream events and the hook through which the engine receives them.

The engine's handlers are named in ``EXCHANGE_STREAM_HANDLERS`` (dotted paths; the one inversion
mechanism, ``tradingsvc.lib.events``). Each is called with one event, in the stream process's main
thread (never the socket thread), after the event's data is stored. Executions are handed over at least once: a handler that raises leaves the
execution unhandled and it is offered again on the next pass, so handlers must be idempotent by
``exec_id`` (the stored ``Execution`` row's unique key makes that easy).
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.types import Execution, Kline, Order, Position, Ticker, WalletBalance
from tradingsvc.lib import events


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


def dispatch(event: StreamEvent, *, raise_errors: bool = False) -> bool:
    """Call every handler in ``EXCHANGE_STREAM_HANDLERS``; True if all succeeded.

    A misconfigured hook must not lose data: a handler that cannot be imported or raises leaves
    executions unhandled, and they are offered again on the next pass."""
    return events.dispatch("EXCHANGE_STREAM_HANDLERS", event, raise_errors=raise_errors)
