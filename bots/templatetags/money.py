"""Numbers as the client reads them: grouped and with the decimal mark of the page's language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import formats

register = template.Library()
CENT = Decimal("0.01")
MINUS = "\u2212"  # a true minus sign: as wide as "+", so columns of figures line up


def _number(value: Decimal, places: int) -> str:
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Decimal | None) -> str:
    """12345.678 -> "12,345.68" (en) or "12.345,68" (pt-BR); None -> "—"."""
    if value is None:
        return "—"
    return _number(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP), 2)


@register.filter
def signed_money(value: Decimal | None) -> str:
    """Like ``money`` with an explicit sign, so a gain and a loss never look alike."""
    if value is None:
        return "—"
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "+" if rounded > 0 else (MINUS if rounded < 0 else "")
    return sign + _number(abs(rounded), 2)


@register.filter
def percent(value: Decimal | None, places: int = 2) -> str:
    """A percentage already in percent units (1.5 -> "+1.50 %")."""
    if value is None:
        return "—"
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "+" if rounded > 0 else (MINUS if rounded < 0 else "")
    return f"{sign}{_number(abs(rounded), places)} %"


@register.filter
def fraction_percent(value: Decimal | None) -> str:
    """A fraction as a percentage (0.015 -> "1.50 %"), unsigned."""
    if value is None:
        return "—"
    return _number((Decimal(value) * 100).quantize(CENT, rounding=ROUND_HALF_UP), 2) + " %"


@register.filter
def ratio(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return _number(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP), 2)


@register.filter
def quantity(value: Decimal | None) -> str:
    """Exchange quantities and prices as given (no trailing zeros), with the local decimal mark."""
    if value is None:
        return "—"
    normal = Decimal(value).normalize()
    places = max(0, -normal.as_tuple().exponent)  # type: ignore[operator]
    return _number(normal, places)


@register.filter
def pnl_class(value: Decimal | None) -> str:
    """CSS class for a P&L: gain, loss or flat."""
    if not value:
        return "flat"
    return "gain" if value > 0 else "loss"
