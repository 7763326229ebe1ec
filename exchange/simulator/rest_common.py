"""What every /v5 handler shares: the handler signature and Bybit's common parameter rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchange.simulator.engine import Engine
from exchange.simulator.errors import PARAM_ERROR, BybitError
from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.market_data import DAY
from exchange.simulator.params import integer, text
from exchange.simulator.records import ApiKey

Params = dict[str, Any]
Handler = Callable[[Engine, Params, ApiKey | None], Any]
SEVEN_DAYS = 7 * DAY


def linear_only(p: Params, required: bool = True) -> None:
    category = text(p, "category")
    if (required or category) and category != "linear":
        raise BybitError(PARAM_ERROR, "params error: category only support linear")


def symbol_param(p: Params, required: bool = True) -> str:
    symbol = text(p, "symbol")
    if symbol and symbol not in INSTRUMENTS:
        raise BybitError(PARAM_ERROR, "params error: symbol invalid")
    if required and not symbol:
        raise BybitError(PARAM_ERROR, "params error: symbol is required")
    return symbol


def time_window(eng: Engine, p: Params) -> tuple[int, int]:
    """startTime/endTime as Bybit reads them: 7 days back from the end by default, at most 7 days."""
    now = eng.clock.now()
    start = integer(p, "startTime")
    end = integer(p, "endTime")
    if start is None:
        top = now if end is None else end
        return top - SEVEN_DAYS, top
    if end is None:
        return start, start + SEVEN_DAYS
    if end - start > SEVEN_DAYS:
        raise BybitError(PARAM_ERROR, "params error: The time range cannot exceed 7 days")
    return start, end


def uid_of(key: ApiKey | None) -> int:
    if key is None:
        raise RuntimeError("private handler without a key")
    return key.uid
