"""Reading request parameters the way Bybit does: strings or numbers, with retCode 10001 on nonsense."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from exchange.simulator.errors import PARAM_ERROR, BybitError


def text(params: dict[str, Any], name: str, default: str = "") -> str:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dec(params: dict[str, Any], name: str, default: Decimal | None = None) -> Decimal | None:
    """A decimal parameter; numbers and numeric strings are both accepted, as Bybit does."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BybitError(PARAM_ERROR, f"params error: {name} invalid")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise BybitError(PARAM_ERROR, f"params error: {name} invalid") from None
    if not result.is_finite():
        raise BybitError(PARAM_ERROR, f"params error: {name} invalid")
    return result


def flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0", ""):
        return False
    raise BybitError(PARAM_ERROR, f"params error: {name} invalid")


def integer(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        raise BybitError(PARAM_ERROR, f"params error: {name} invalid") from None


def limit(params: dict[str, Any], default: int, maximum: int) -> int:
    """Bybit's ``limit``: out-of-range values are an error, not clamped."""
    value = integer(params, "limit", default)
    if value is None:
        value = default
    if not 1 <= value <= maximum:
        raise BybitError(PARAM_ERROR, f"params error: limit must be in [1, {maximum}]")
    return value
