"""Numbers as the client reads them: grouped and with the decimal mark of the page's language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import formats

register = template.Library()
MINUS = "\u2212"  # a true minus sign: as wide as "+", so columns of figures line up


def _number(value: Decimal, places: int) -> str:
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


def _fixed(value: Decimal, places: int = 2, *, signed: bool = False) -> str:
    """Rounded half-up to ``places``, grouped, with a true minus (and "+" when ``signed``)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if rounded < 0 else ("+" if signed and rounded > 0 else "")
    return sign + _number(abs(rounded), places)


@register.filter
def money(value: Decimal | None) -> str:
    """12345.678 -> "12,345.68" (en) or "12.345,68" (pt-BR); None -> "—"."""
    return "—" if value is None else _fixed(value)


@register.filter
def signed_money(value: Decimal | None) -> str:
    """Like ``money`` with an explicit sign, so a gain and a loss never look alike."""
    return "—" if value is None else _fixed(value, signed=True)


@register.filter
def percent(value: Decimal | None, places: int = 2) -> str:
    """A percentage already in percent units (1.5 -> "+1.50 %")."""
    return "—" if value is None else _fixed(value, places, signed=True) + " %"


@register.filter
def fraction_percent(value: Decimal | None) -> str:
    """A fraction as a percentage (0.015 -> "1.50 %"), unsigned."""
    return "—" if value is None else _fixed(Decimal(value) * 100) + " %"


@register.filter
def ratio(value: Decimal | None) -> str:
    return "—" if value is None else _fixed(value)


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
