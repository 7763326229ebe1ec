"""The fee maths: pure and Decimal-only, like ``bots.risk``. No Django, no database.

A period's invoice is a fixed fee plus a performance fee above a high-water mark (HWM):

- **Performance fee** = rate x max(0, equity at the period's end - HWM after the period's flows).
- **The HWM moves with flows** exactly as the breaker's peak does (``bots.risk.peak_after_flow``,
  the one definition): a deposit raises it by its amount, a withdrawal lowers it in proportion to
  the share of equity withdrawn. So a deposit is never billed as profit; after a withdrawal the
  equity is as far below the HWM, as a share, as before it (the client takes that share of the
  drawdown away with the money, and recovers the same percentage before paying again); and after
  the close the HWM is the higher of the moved HWM and the equity at the end, so the same gain is
  never billed twice.
- **The rate** is the plan's, lowered by the operator's loyalty reduction once the tenant has had
  the operator's number of profitable months (a month whose close found a gain above the HWM).
- **The fixed fee** is the plan's monthly fee; a subscription that starts after the period's
  first day pays the share of days it was subscribed; the first period of a subscription is free
  when the operator's "first month free" is on; an annual subscription pays twelve months less the
  annual discount in the first period of each subscription year and nothing in the other eleven.

Rounding (written down once, here): figures kept between periods (the HWM) are quantized to the
books' precision, 10 decimal places, half up, so the stored HWM is the computed one. Every invoice
line is rounded to the cent, half up, in USDT; the line in the invoice's currency is the rounded
USDT line times the rate, rounded to the cent half up; totals are sums of rounded lines, so the
lines always add up to the total printed.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bots.risk import peak_after_flow

ZERO = Decimal(0)
CENT = Decimal("0.01")
BOOKS_PRECISION = Decimal("0.0000000001")


def to_cent(amount: Decimal) -> Decimal:
    """An invoice line's rounding: to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_books(amount: Decimal) -> Decimal:
    """A carried figure's rounding: the books' 10 decimal places, half up (what is stored)."""
    return amount.quantize(BOOKS_PRECISION, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Flow:
    """A capital flow inside the period: signed (deposits positive) with the equity just before it."""

    amount: Decimal
    equity_before: Decimal | None


def hwm_after_flows(hwm: Decimal, flows: Iterable[Flow]) -> Decimal:
    """The HWM moved by each flow in order, with the breaker's rule."""
    for flow in flows:
        hwm = to_books(peak_after_flow(hwm, flow.amount, flow.equity_before))
    return hwm


@dataclass(frozen=True)
class PerformanceFee:
    """One period's performance fee, with every step of its calculation (stored on the invoice)."""

    hwm_start: Decimal
    hwm_adjusted: Decimal  # after the period's flows
    equity_end: Decimal
    gain: Decimal  # above the adjusted HWM, never negative
    rate: Decimal
    fee: Decimal  # rate x gain, to the cent
    hwm_end: Decimal  # carried to the next period

    @property
    def profitable(self) -> bool:
        return self.gain > 0


def performance_fee(
    *, hwm_start: Decimal, equity_end: Decimal, flows: Iterable[Flow], rate: Decimal
) -> PerformanceFee:
    """The period's performance fee above the HWM and the HWM the next period starts from."""
    adjusted = hwm_after_flows(to_books(hwm_start), flows)
    gain = max(ZERO, to_books(equity_end) - adjusted)
    return PerformanceFee(
        hwm_start=to_books(hwm_start),
        hwm_adjusted=adjusted,
        equity_end=to_books(equity_end),
        gain=gain,
        rate=rate,
        fee=to_cent(rate * gain),
        hwm_end=max(adjusted, to_books(equity_end)),
    )


def performance_rate(
    *, plan_rate: Decimal, profitable_months: int, loyalty_after: int, loyalty_reduction: Decimal
) -> Decimal:
    """The plan's rate, lowered by the loyalty reduction after ``loyalty_after`` profitable months
    (0 = no loyalty rule); never below zero."""
    if loyalty_after > 0 and profitable_months >= loyalty_after:
        return max(ZERO, plan_rate - loyalty_reduction)
    return plan_rate


def month_end(period_start: date) -> date:
    """The first day of the next month: periods are ``[start, end)`` calendar months."""
    days = calendar.monthrange(period_start.year, period_start.month)[1]
    return date.fromordinal(period_start.toordinal() + days)


def fixed_fee(
    *, monthly_fee: Decimal, period_start: date, subscribed_from: date, first_period_free: bool
) -> Decimal:
    """A monthly subscription's fixed fee for one calendar month, to the cent.

    Free in the subscription's first period when the operator says so; otherwise a start after
    the month's first day pays its share of the month's days (the start day included).
    """
    end = month_end(period_start)
    first_period = period_start <= subscribed_from < end
    if first_period and first_period_free:
        return ZERO
    if subscribed_from <= period_start:
        return to_cent(monthly_fee)
    days = (end - period_start).days
    return to_cent(monthly_fee * (end - subscribed_from).days / days)


def annual_fee(*, monthly_fee: Decimal, discount: Decimal) -> Decimal:
    """Twelve months prepaid, less the operator's annual discount, to the cent."""
    return to_cent(monthly_fee * 12 * (1 - discount))


def annual_fee_due(*, period_start: date, subscribed_from: date) -> bool:
    """Whether this period opens a subscription year (the one the annual fee is invoiced in)."""
    start_month = date(subscribed_from.year, subscribed_from.month, 1)
    months = (period_start.year - start_month.year) * 12 + period_start.month - start_month.month
    return months >= 0 and months % 12 == 0


def to_currency(amount_usdt: Decimal, rate: Decimal) -> Decimal:
    """A rounded USDT line in the invoice's currency (``rate`` currency units per USDT)."""
    return to_cent(amount_usdt * rate)
