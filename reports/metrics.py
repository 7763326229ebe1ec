"""A client's performance figures, computed once, in one tested place.

Pure Python: plain data in, frozen dataclasses out, no ORM and no settings, so the report page,
the PDF statement and the backtests all show the same numbers. Money, equity and ratios stay
``Decimal`` throughout (square roots via ``Decimal.sqrt``); floats never touch a figure.

Precision: every computation runs in its own decimal context of 28 significant digits, so the
caller's context cannot change a result. Ratios are returned unrounded; rounding to a few
places is presentation and belongs to the template, and keeping them exact lets the tests
compare against an independent computation.

Signs: drawdowns are fractions at or below zero (-0.1 is 10 % below the peak); losses keep the
sign they have in the ledger (a gross loss of -250, an average loss of -25).

Undefined figures are ``None`` together with an ``Undefined`` reason, never a made-up 0 or a
division error, so the page can show "—" and say why.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, TypeVar

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

__all__ = [
    "METRIC_EXPLANATIONS",
    "UNDEFINED_EXPLANATIONS",
    "Bin",
    "EquityMetrics",
    "TradeMetrics",
    "Undefined",
    "daily_returns",
    "downsample",
    "drawdown_series",
    "equity_metrics",
    "histogram",
    "monthly_returns",
    "trade_metrics",
    "trade_metrics_from_totals",
]

# Fixed, independent of whatever context the caller's thread has set.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)
_ONE = Decimal(1)

# Works for dates and datetimes alike (datetime is a date), and hands back what it was given.
_When = TypeVar("_When", bound=date)


class Undefined(StrEnum):
    """Why a figure has no value; each has a client-facing sentence in UNDEFINED_EXPLANATIONS."""

    NO_DATA = "no_data"
    TOO_FEW_RETURNS = "too_few_returns"
    NO_VARIATION = "no_variation"
    NO_LOSING_DAYS = "no_losing_days"
    NO_TRADES = "no_trades"
    NO_LOSSES = "no_losses"


@dataclass(frozen=True, slots=True)
class EquityMetrics:
    """Figures from the daily equity curve.

    ``returns`` are the flow-adjusted daily returns, dated by the day they end on.
    ``total_return`` compounds them (time-weighted), so deposits and withdrawals never count as
    profit or loss. ``max_drawdown`` is measured on the same compounded curve, for the same
    reason: a withdrawal is not a drawdown. Its peak and trough dates are ``None`` when the
    curve never fell below an earlier peak. ``total_return`` and ``max_drawdown`` are ``None``
    (reason ``Undefined.NO_DATA``) when there is not one usable daily return. ``net_flows`` is
    the deposits minus withdrawals that were taken out of those returns.
    """

    returns: tuple[tuple[date, Decimal], ...]
    net_flows: Decimal
    total_return: Decimal | None
    max_drawdown: Decimal | None
    max_drawdown_peak: date | None
    max_drawdown_trough: date | None
    sharpe: Decimal | None
    sharpe_undefined: Undefined | None
    sortino: Decimal | None
    sortino_undefined: Undefined | None


@dataclass(frozen=True, slots=True)
class TradeMetrics:
    """Figures from the realised P&L of closed trades.

    A trade with exactly zero P&L is neither a win nor a loss (``breakeven``) but still counts in
    ``trades``, so it lowers the win rate: the client asked the bot to make money on it.
    """

    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal
    net_profit: Decimal
    profit_factor: Decimal | None
    profit_factor_undefined: Undefined | None
    average_win: Decimal | None
    average_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    expectancy: Decimal | None


@dataclass(frozen=True, slots=True)
class Bin:
    """One histogram bar: values in [low, high), the last bar also holding ``high`` itself."""

    low: Decimal
    high: Decimal
    count: int


# --- equity curve ------------------------------------------------------------------------------


def daily_returns(
    daily_closes: Sequence[tuple[date, Decimal]],
    flows: Mapping[date, Decimal] | None = None,
) -> list[tuple[date, Decimal]]:
    """Each day's return with deposits and withdrawals taken out, so money paid in is no profit.

    return = (close - previous close - flows) / previous close, where ``flows`` are the net
    deposits (+) and withdrawals (-) dated after the previous close and up to this one (a gap in
    the closes does not lose a flow). Days whose previous close is zero or negative are skipped:
    there is no meaningful fraction of nothing. Closes must be in strictly increasing date order.
    """
    with localcontext(_CONTEXT):
        return [(day, ret) for day, ret, _flow in _returns_with_flows(daily_closes, flows)]


def _returns_with_flows(
    daily_closes: Sequence[tuple[date, Decimal]],
    flows: Mapping[date, Decimal] | None,
) -> Iterator[tuple[date, Decimal, Decimal]]:
    """(day, return, flow applied) for each usable day; shared by every equity figure."""
    days = [day for day, _close in daily_closes]
    for earlier, later in pairwise(days):
        if later <= earlier:
            raise ValueError(
                f"closes must be in strictly increasing date order: {later} after {earlier}"
            )
    pending = sorted((flows or {}).items())
    position = 0
    # Flows on or before the first close are already inside it.
    if daily_closes:
        first_day = daily_closes[0][0]
        while position < len(pending) and pending[position][0] <= first_day:
            position += 1
    for (_day, previous), (day, close) in pairwise(daily_closes):
        flow = _ZERO
        while position < len(pending) and pending[position][0] <= day:
            flow += pending[position][1]
            position += 1
        if previous <= 0:
            continue
        yield day, (close - previous - flow) / previous, flow


def equity_metrics(
    daily_closes: Sequence[tuple[date, Decimal]],
    periods_per_year: int = 365,
    flows: Mapping[date, Decimal] | None = None,
) -> EquityMetrics:
    """Return, risk and risk-adjusted return from one equity close per day.

    Crypto trades every day, hence 365 periods a year. Sharpe and Sortino take a risk-free rate
    of 0: clients compare against holding cash on the exchange, which pays nothing.
    """
    if periods_per_year < 1:
        raise ValueError("periods_per_year must be at least 1")
    with localcontext(_CONTEXT):
        rows = list(_returns_with_flows(daily_closes, flows))
        returns = [ret for _day, ret, _flow in rows]
        net_flows = sum((flow for _day, _ret, flow in rows), _ZERO)

        # Drawdown on the compounded (time-weighted) curve, starting at 1 on the first close.
        index = _ONE
        peak = _ONE
        peak_day = daily_closes[0][0] if daily_closes else None
        worst = _ZERO
        worst_peak: date | None = None
        worst_trough: date | None = None
        for day, ret, _flow in rows:
            index *= _ONE + ret
            if index > peak:
                peak, peak_day = index, day
            drawdown = index / peak - _ONE
            if drawdown < worst:
                worst, worst_peak, worst_trough = drawdown, peak_day, day

        sharpe, sharpe_undefined = _sharpe(returns, periods_per_year)
        sortino, sortino_undefined = _sortino(returns, periods_per_year)
        return EquityMetrics(
            returns=tuple((day, ret) for day, ret, _flow in rows),
            net_flows=net_flows,
            total_return=index - _ONE if rows else None,
            max_drawdown=worst if rows else None,
            max_drawdown_peak=worst_peak,
            max_drawdown_trough=worst_trough,
            sharpe=sharpe,
            sharpe_undefined=sharpe_undefined,
            sortino=sortino,
            sortino_undefined=sortino_undefined,
        )


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, _ZERO) / len(values)


def _sharpe(
    returns: Sequence[Decimal], periods_per_year: int
) -> tuple[Decimal | None, Undefined | None]:
    """Mean over sample standard deviation (n - 1), annualised by sqrt(periods per year)."""
    if len(returns) < 2:
        return None, Undefined.TOO_FEW_RETURNS
    mean = _mean(returns)
    variance = sum(((ret - mean) ** 2 for ret in returns), _ZERO) / (len(returns) - 1)
    if variance == 0:
        return None, Undefined.NO_VARIATION
    return mean / variance.sqrt() * Decimal(periods_per_year).sqrt(), None


def _sortino(
    returns: Sequence[Decimal], periods_per_year: int
) -> tuple[Decimal | None, Undefined | None]:
    """Mean over downside deviation sqrt(mean(min(r, 0)^2)) taken over all periods, annualised.

    Averaging over every period, not only the losing ones, is the usual definition and keeps one
    bad day in a calm month from looking like a typical day.
    """
    if len(returns) < 2:
        return None, Undefined.TOO_FEW_RETURNS
    downside = _mean([min(ret, _ZERO) ** 2 for ret in returns])
    if downside == 0:
        return None, Undefined.NO_LOSING_DAYS
    return _mean(returns) / downside.sqrt() * Decimal(periods_per_year).sqrt(), None


def drawdown_series(points: Sequence[tuple[_When, Decimal]]) -> list[tuple[_When, Decimal]]:
    """How far below its running peak the equity is at each point (0 or a negative fraction).

    Drawn beneath the equity curve, from the same raw equity points, so a withdrawal shows here
    as a dip; the headline max drawdown (``equity_metrics``) takes flows out. Until the equity
    has been positive there is no peak to fall from, and the drawdown is 0.
    """
    with localcontext(_CONTEXT):
        series: list[tuple[_When, Decimal]] = []
        peak = _ZERO
        for when, value in points:
            peak = max(peak, value)
            series.append((when, value / peak - _ONE if peak > 0 else _ZERO))
        return series


def monthly_returns(
    daily_closes: Sequence[tuple[date, Decimal]],
    flows: Mapping[date, Decimal] | None = None,
) -> dict[tuple[int, int], Decimal]:
    """Compounded flow-adjusted return per (year, month), in date order, for the calendar heatmap.

    Compounding the month's daily returns measures from the last close of the previous month,
    so no day falls between two months.
    """
    with localcontext(_CONTEXT):
        growth: dict[tuple[int, int], Decimal] = {}
        for day, ret, _flow in _returns_with_flows(daily_closes, flows):
            key = (day.year, day.month)
            growth[key] = growth.get(key, _ONE) * (_ONE + ret)
        return {key: factor - _ONE for key, factor in growth.items()}


# --- closed trades -----------------------------------------------------------------------------


def trade_metrics(pnls: Sequence[Decimal]) -> TradeMetrics:
    """Win rate, profit factor and the rest from the realised P&L of each closed trade."""
    wins = [pnl for pnl in pnls if pnl > 0]
    losses = [pnl for pnl in pnls if pnl < 0]
    with localcontext(_CONTEXT):
        return trade_metrics_from_totals(
            count=len(pnls),
            wins=len(wins),
            losses=len(losses),
            gross_profit=sum(wins, _ZERO),
            gross_loss=sum(losses, _ZERO),
            largest_win=max(wins, default=None),
            largest_loss=min(losses, default=None),
        )


def trade_metrics_from_totals(
    *,
    count: int,
    wins: int,
    losses: int,
    gross_profit: Decimal | None,
    gross_loss: Decimal | None,
    largest_win: Decimal | None,
    largest_loss: Decimal | None,
) -> TradeMetrics:
    """The same figures from sums the database already made, for pages over many trades.

    Takes exactly what SQL aggregates give: ``gross_loss`` is the (negative) sum of losing
    trades and ``largest_loss`` their minimum; an aggregate over no rows may be ``None``.
    Keyword-only because seven numbers in a row are too easy to swap.
    """
    gross_profit = gross_profit or _ZERO
    gross_loss = gross_loss or _ZERO
    if min(count, wins, losses) < 0 or wins + losses > count:
        raise ValueError(f"inconsistent counts: {count} trades, {wins} wins, {losses} losses")
    if gross_profit < 0 or (largest_win is not None and largest_win <= 0):
        raise ValueError("gross_profit and largest_win are sums/maxima of winning trades (> 0)")
    if gross_loss > 0 or (largest_loss is not None and largest_loss >= 0):
        raise ValueError("gross_loss and largest_loss keep the losing trades' sign (< 0)")
    with localcontext(_CONTEXT):
        net_profit = gross_profit + gross_loss
        if count == 0:
            profit_factor, profit_factor_undefined = None, Undefined.NO_TRADES
        elif losses == 0:
            # Nothing lost yet: the ratio is infinite (or 0/0), not a number to show.
            profit_factor, profit_factor_undefined = None, Undefined.NO_LOSSES
        else:
            profit_factor, profit_factor_undefined = gross_profit / -gross_loss, None
        return TradeMetrics(
            trades=count,
            wins=wins,
            losses=losses,
            breakeven=count - wins - losses,
            win_rate=Decimal(wins) / count if count else None,
            gross_profit=gross_profit,
            gross_loss=gross_loss,
            net_profit=net_profit,
            profit_factor=profit_factor,
            profit_factor_undefined=profit_factor_undefined,
            average_win=gross_profit / wins if wins else None,
            average_loss=gross_loss / losses if losses else None,
            largest_win=largest_win if wins else None,
            largest_loss=largest_loss if losses else None,
            expectancy=net_profit / count if count else None,
        )


# --- chart helpers -----------------------------------------------------------------------------


def histogram(values: Sequence[Decimal], bins: int = 30) -> list[Bin]:
    """Equal-width bars from the smallest to the largest value, for the P&L distribution chart.

    Empty input gives no bars; values that are all equal give one bar of zero width.
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    if not values:
        return []
    low, high = min(values), max(values)
    if low == high:
        return [Bin(low=low, high=high, count=len(values))]
    with localcontext(_CONTEXT):
        span = high - low
        counts = [0] * bins
        for value in values:
            # Clamped: the maximum belongs to the last bar, and rounding must not push a value
            # one bar past the end.
            position = int((value - low) * bins / span)
            counts[min(max(position, 0), bins - 1)] += 1
        edges = [low + span * i / bins for i in range(bins)] + [high]
        return [Bin(low=edges[i], high=edges[i + 1], count=counts[i]) for i in range(bins)]


def downsample(
    points: Sequence[tuple[_When, Decimal]], max_points: int
) -> list[tuple[_When, Decimal]]:
    """At most ``max_points`` points that still show every drawdown and spike, in one pass.

    Keeps the first and last point, splits the rest into equal-count buckets and keeps each
    bucket's lowest and highest point in time order; so the overall minimum and maximum always
    survive, which averaging or striding would lose. Points must be in time order. Needs room for
    the two ends and one min/max pair, hence at least 4 points.
    """
    if max_points < 4:
        raise ValueError("max_points must be at least 4 (both ends and one min/max pair)")
    if len(points) <= max_points:
        return list(points)
    interior = len(points) - 2
    buckets = (max_points - 2) // 2
    kept = [points[0]]
    for bucket in range(buckets):
        start = 1 + bucket * interior // buckets
        stop = 1 + (bucket + 1) * interior // buckets
        lowest = highest = start
        for i in range(start + 1, stop):
            if points[i][1] < points[lowest][1]:
                lowest = i
            if points[i][1] > points[highest][1]:
                highest = i
        kept.extend(points[i] for i in sorted({lowest, highest}))
    kept.append(points[-1])
    return kept


# --- words for the client ----------------------------------------------------------------------

METRIC_EXPLANATIONS: dict[str, StrPromise] = {
    "total_return": _(
        "Total return: how much the account grew over the period, leaving out money you paid in or took out."
    ),
    "max_drawdown": _(
        "Max drawdown: the biggest fall from a high point to a later low point; it shows the worst stretch you would have sat through."
    ),
    "sharpe": _(
        "Sharpe ratio: return per unit of day-to-day swings, per year; above 1 is good, above 2 is very good."
    ),
    "sortino": _(
        "Sortino ratio: like the Sharpe ratio, but only the down days count as risk; higher is better."
    ),
    "trades": _("Number of trades: how many trades the bot opened and closed in the period."),
    "win_rate": _(
        "Win rate: the share of closed trades that made money; a bot can win less than half the time and still profit if its wins are bigger than its losses."
    ),
    "profit_factor": _(
        "Profit factor: money made on winning trades divided by money lost on losing ones; above 1 means the bot made more than it lost."
    ),
    "average_win": _("Average win: the typical profit of a winning trade."),
    "average_loss": _("Average loss: the typical loss of a losing trade."),
    "largest_win": _("Largest win: the most a single trade made."),
    "largest_loss": _("Largest loss: the most a single trade lost."),
    "expectancy": _(
        "Expectancy: the average result per trade, wins and losses together; above 0 means the bot made money per trade on average."
    ),
}

UNDEFINED_EXPLANATIONS: dict[Undefined, StrPromise] = {
    Undefined.NO_DATA: _("Needs at least two daily closes."),
    Undefined.TOO_FEW_RETURNS: _("Needs at least two days of results."),
    Undefined.NO_VARIATION: _(
        "The result was exactly the same every day, so there were no swings to measure against."
    ),
    Undefined.NO_LOSING_DAYS: _(
        "There has not been a losing day yet, so there is no downside to measure against."
    ),
    Undefined.NO_TRADES: _("No closed trades yet."),
    Undefined.NO_LOSSES: _("No losing trades yet, so there is nothing to divide by."),
}
