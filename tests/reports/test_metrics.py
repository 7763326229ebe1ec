"""Performance figures: hand-computed cases for every formula, edges, and a pandas cross-check."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise

import pandas as pd
import pytest

from reports.metrics import (
    METRIC_EXPLANATIONS,
    UNDEFINED_EXPLANATIONS,
    Bin,
    Undefined,
    daily_returns,
    downsample,
    drawdown_series,
    equity_metrics,
    histogram,
    monthly_returns,
    trade_metrics,
    trade_metrics_from_totals,
)

D = Decimal
TINY = D("1e-20")


def closes(*values: str, start: date = date(2025, 1, 1)) -> list[tuple[date, Decimal]]:
    return [(start + timedelta(days=i), D(v)) for i, v in enumerate(values)]


def near(actual: Decimal | None, expected: Decimal, tolerance: Decimal = TINY) -> bool:
    assert actual is not None
    return abs(actual - expected) < tolerance


# --- daily returns, total return, drawdown -----------------------------------------------------


def test_daily_returns_and_max_drawdown_of_a_hand_computed_curve():
    """100, 110, 99, 120: returns 0.1, -0.1, 21/99; the worst fall is 110 -> 99, i.e. -0.1."""
    series = closes("100", "110", "99", "120")
    # 10/100 = 0.1; -11/110 = -0.1; 21/99 = 0.2121...
    assert daily_returns(series) == [
        (date(2025, 1, 2), D("0.1")),
        (date(2025, 1, 3), D("-0.1")),
        (date(2025, 1, 4), D(21) / D(99)),
    ]
    metrics = equity_metrics(series)
    assert metrics.max_drawdown == D("-0.1")  # 0.99 / 1.1 - 1 on the compounded curve
    assert metrics.max_drawdown_peak == date(2025, 1, 2)
    assert metrics.max_drawdown_trough == date(2025, 1, 3)
    assert near(metrics.total_return, D("0.2"))  # 120 / 100 - 1
    assert metrics.net_flows == 0


def test_sharpe_and_sortino_of_a_hand_computed_curve():
    """Same curve: Sharpe = 7 * sqrt(365 / 245.01), Sortino = 70/99 * sqrt(1095)."""
    metrics = equity_metrics(closes("100", "110", "99", "120"))
    # Returns 9.9/99, -9.9/99, 21/99; mean 7/99. Deviations 2.9/99, -16.9/99, 14/99; squares sum
    # 490.02/99^2, sample variance 245.01/99^2, stdev sqrt(245.01)/99.
    # Sharpe = (7/99) / (sqrt(245.01)/99) * sqrt(365) = 7 * sqrt(365/245.01) = 8.5438...
    assert near(metrics.sharpe, D(7) * (D(365) / D("245.01")).sqrt())
    assert metrics.sharpe_undefined is None
    # Downside deviation = sqrt((0 + 0.01 + 0) / 3) = 0.1 / sqrt(3).
    # Sortino = (7/99) / (0.1/sqrt(3)) * sqrt(365) = 70/99 * sqrt(1095) = 23.397...
    assert near(metrics.sortino, D(70) / D(99) * D(1095).sqrt())
    assert metrics.sortino_undefined is None


def test_figures_ignore_the_callers_decimal_context():
    """A caller with a coarse context gets the same figures as anyone else."""
    series = closes("100", "110", "99", "120")
    expected = equity_metrics(series)
    with localcontext() as ctx:
        ctx.prec = 4
        assert equity_metrics(series) == expected


def test_no_closes_or_one_close_gives_no_figures_and_says_why():
    """Nothing to measure: None with a reason, never 0 and never a division error."""
    for series in ([], closes("100")):
        metrics = equity_metrics(series)
        assert metrics.returns == ()
        assert metrics.total_return is None
        assert metrics.max_drawdown is None
        assert metrics.sharpe is None
        assert metrics.sharpe_undefined is Undefined.TOO_FEW_RETURNS
        assert metrics.sortino is None
        assert metrics.sortino_undefined is Undefined.TOO_FEW_RETURNS
    assert monthly_returns([]) == {}
    assert daily_returns(closes("100")) == []


def test_one_return_has_a_total_and_drawdown_but_no_ratios():
    """Two closes, 100 -> 90: total -0.1, drawdown -0.1, no Sharpe or Sortino from one day."""
    metrics = equity_metrics(closes("100", "90"))
    assert metrics.total_return == D("-0.1")
    assert metrics.max_drawdown == D("-0.1")
    assert metrics.max_drawdown_peak == date(2025, 1, 1)
    assert metrics.sharpe_undefined is Undefined.TOO_FEW_RETURNS


def test_a_curve_that_never_falls_has_zero_drawdown_and_no_dates():
    metrics = equity_metrics(closes("100", "101", "105"))
    assert metrics.max_drawdown == 0
    assert metrics.max_drawdown_peak is None
    assert metrics.max_drawdown_trough is None


def test_identical_daily_returns_give_no_sharpe():
    """100, 110, 121: both returns 0.1, stdev 0, so no Sharpe; no down day, so no Sortino."""
    metrics = equity_metrics(closes("100", "110", "121"))
    assert metrics.sharpe is None
    assert metrics.sharpe_undefined is Undefined.NO_VARIATION
    assert metrics.sortino is None
    assert metrics.sortino_undefined is Undefined.NO_LOSING_DAYS


def test_sortino_is_defined_for_steady_losses_even_without_variation():
    """100, 90, 81: returns -0.1, -0.1; downside deviation 0.1, Sortino = -0.1/0.1 * sqrt(365)."""
    metrics = equity_metrics(closes("100", "90", "81"))
    assert metrics.sharpe_undefined is Undefined.NO_VARIATION
    assert near(metrics.sortino, -D(365).sqrt())


def test_deposits_and_withdrawals_are_not_returns():
    """A deposit of 50 that lifts 100 to 150 is a 0 return; to 160 it is 10/100 = 0.1."""
    series = closes("100", "150", "160", "110")
    flows = {date(2025, 1, 2): D(50), date(2025, 1, 4): D(-50)}
    # Jan 2: (150 - 100 - 50) / 100 = 0; Jan 3: 10/150; Jan 4: (110 - 160 + 50) / 160 = 0.
    assert daily_returns(series, flows) == [
        (date(2025, 1, 2), D(0)),
        (date(2025, 1, 3), D(10) / D(150)),
        (date(2025, 1, 4), D(0)),
    ]
    metrics = equity_metrics(series, flows=flows)
    assert metrics.net_flows == 0
    # The withdrawal of 50 on Jan 4 is not a drawdown: the compounded curve never fell.
    assert metrics.max_drawdown == 0
    assert near(metrics.total_return, D(10) / D(150))


def test_a_flow_between_two_closes_is_not_lost_and_flows_outside_the_series_are_ignored():
    """Closes Jan 1 = 100 and Jan 5 = 160 with 50 deposited on Jan 3: return (160-100-50)/100."""
    series = [(date(2025, 1, 1), D(100)), (date(2025, 1, 5), D(160))]
    flows = {
        date(2024, 12, 31): D(1000),  # before the first close: already inside it
        date(2025, 1, 1): D(1000),  # on the first close's day: likewise
        date(2025, 1, 3): D(50),
        date(2025, 1, 9): D(1000),  # after the last close
    }
    metrics = equity_metrics(series, flows=flows)
    assert metrics.returns == ((date(2025, 1, 5), D("0.1")),)
    assert metrics.net_flows == D(50)


def test_days_after_a_zero_or_negative_close_are_skipped():
    """100, 0, 50, 55: Jan 2 is -1; Jan 3 has nothing to divide by; Jan 4 is 5/50 = 0.1."""
    assert daily_returns(closes("100", "0", "50", "55")) == [
        (date(2025, 1, 2), D(-1)),
        (date(2025, 1, 4), D("0.1")),
    ]
    # 100, -10, 20: Jan 2 is -110/100; Jan 3 follows a negative close and is skipped.
    assert daily_returns(closes("100", "-10", "20")) == [(date(2025, 1, 2), D("-1.1"))]
    # A series starting at 0: no return until a positive close precedes one.
    assert daily_returns(closes("0", "100", "110")) == [(date(2025, 1, 3), D("0.1"))]


def test_closes_out_of_order_or_repeated_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        daily_returns([(date(2025, 1, 2), D(1)), (date(2025, 1, 1), D(1))])
    with pytest.raises(ValueError, match="increasing"):
        equity_metrics([(date(2025, 1, 1), D(1)), (date(2025, 1, 1), D(2))])
    with pytest.raises(ValueError, match="periods_per_year"):
        equity_metrics(closes("1", "2"), periods_per_year=0)


def test_monthly_returns_compound_each_months_days():
    """Jan 31 = 100, Feb 1 = 110, Feb 2 = 121, Mar 1 = 108.9: Feb 1.1*1.1-1 = 0.21, Mar -0.1."""
    series = [
        (date(2025, 1, 31), D(100)),
        (date(2025, 2, 1), D(110)),
        (date(2025, 2, 2), D(121)),
        (date(2025, 3, 1), D("108.9")),
    ]
    assert monthly_returns(series) == {(2025, 2): D("0.21"), (2025, 3): D("-0.1")}
    # A deposit of 100 on Feb 2 (121 -> 221 instead) changes nothing.
    with_deposit = [*series[:2], (date(2025, 2, 2), D(221)), (date(2025, 3, 1), D("198.9"))]
    # Mar: (198.9 - 221) / 221 = -0.1
    assert monthly_returns(with_deposit, {date(2025, 2, 2): D(100)}) == {
        (2025, 2): D("0.21"),
        (2025, 3): D("-0.1"),
    }


def test_drawdown_series_follows_the_running_peak():
    """100, 120, 90, 130, 117: 0, 0, 90/120-1 = -0.25, 0, 117/130-1 = -0.1."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    points = [
        (start + timedelta(hours=i), D(v)) for i, v in enumerate(("100", "120", "90", "130", "117"))
    ]
    assert drawdown_series(points) == [
        (points[0][0], D(0)),
        (points[1][0], D(0)),
        (points[2][0], D("-0.25")),
        (points[3][0], D(0)),
        (points[4][0], D("-0.1")),
    ]
    assert drawdown_series([]) == []
    # No peak before the first positive value: 0, then 50 is the peak and 25 is -0.5.
    assert [dd for _, dd in drawdown_series(closes("0", "50", "25"))] == [D(0), D(0), D("-0.5")]


# --- trades --------------------------------------------------------------------------------------


def test_trade_metrics_of_a_hand_computed_set():
    """+100, -50, +30, -20, 0: 2 wins, 2 losses, 1 breakeven out of 5."""
    metrics = trade_metrics([D(100), D(-50), D(30), D(-20), D(0)])
    assert (metrics.trades, metrics.wins, metrics.losses, metrics.breakeven) == (5, 2, 2, 1)
    assert metrics.win_rate == D("0.4")  # 2 / 5
    assert metrics.gross_profit == D(130)
    assert metrics.gross_loss == D(-70)
    assert metrics.net_profit == D(60)
    assert metrics.profit_factor == D(130) / D(70)  # 1.857142...
    assert metrics.profit_factor_undefined is None
    assert metrics.average_win == D(65)  # 130 / 2
    assert metrics.average_loss == D(-35)  # -70 / 2
    assert metrics.largest_win == D(100)
    assert metrics.largest_loss == D(-50)
    assert metrics.expectancy == D(12)  # 60 / 5 = 0.4*65 + 0.4*(-35)


def test_all_wins_have_no_profit_factor():
    """No losing trade: profit factor would divide by zero, so it is None with a reason."""
    metrics = trade_metrics([D(10), D(20)])
    assert metrics.profit_factor is None
    assert metrics.profit_factor_undefined is Undefined.NO_LOSSES
    assert metrics.win_rate == 1
    assert metrics.average_loss is None
    assert metrics.largest_loss is None


def test_all_losses_have_a_profit_factor_of_zero():
    metrics = trade_metrics([D(-10), D(-30)])
    assert metrics.profit_factor == 0
    assert metrics.win_rate == 0
    assert metrics.average_loss == D(-20)
    assert metrics.average_win is None


def test_no_trades_gives_no_rates():
    metrics = trade_metrics([])
    assert metrics.trades == 0
    assert metrics.win_rate is None
    assert metrics.expectancy is None
    assert metrics.profit_factor is None
    assert metrics.profit_factor_undefined is Undefined.NO_TRADES
    assert metrics.net_profit == 0


def test_totals_from_sql_give_the_same_figures_as_the_trades():
    """What the page aggregates in SQL, including None for sums over no rows, matches the list."""
    rng = random.Random(7)
    pnls = [D(rng.randint(-5000, 5000)) / 100 for _ in range(200)]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    from_totals = trade_metrics_from_totals(
        count=len(pnls),
        wins=len(wins),
        losses=len(losses),
        gross_profit=sum(wins),
        gross_loss=sum(losses),
        largest_win=max(wins),
        largest_loss=min(losses),
    )
    assert from_totals == trade_metrics(pnls)
    only_wins = trade_metrics_from_totals(
        count=2,
        wins=2,
        losses=0,
        gross_profit=D(30),
        gross_loss=None,
        largest_win=D(20),
        largest_loss=None,
    )
    assert only_wins == trade_metrics([D(10), D(20)])


def test_totals_that_cannot_be_right_are_refused():
    base = {"count": 2, "wins": 1, "losses": 1, "gross_profit": D(5), "gross_loss": D(-3)}
    extremes = {"largest_win": D(5), "largest_loss": D(-3)}
    with pytest.raises(ValueError, match="counts"):
        trade_metrics_from_totals(**{**base, "wins": 2}, **extremes)
    with pytest.raises(ValueError, match="sign"):
        trade_metrics_from_totals(**{**base, "gross_loss": D(3)}, **extremes)
    with pytest.raises(ValueError, match="winning"):
        trade_metrics_from_totals(**{**base, "gross_profit": D(-5)}, **extremes)


# --- histogram -----------------------------------------------------------------------------------


def test_histogram_of_a_hand_computed_set():
    """0,1,2,3,4,10 in 5 bars of width 2: [0,2) 2, [2,4) 2, [4,6) 1, [6,8) 0, [8,10] 1."""
    bars = histogram([D(v) for v in (0, 1, 2, 3, 4, 10)], bins=5)
    assert bars == [
        Bin(D(0), D(2), 2),
        Bin(D(2), D(4), 2),
        Bin(D(4), D(6), 1),
        Bin(D(6), D(8), 0),
        Bin(D(8), D(10), 1),
    ]


def test_histogram_edges():
    assert histogram([]) == []
    assert histogram([D(5), D(5), D(5)]) == [Bin(D(5), D(5), 3)]
    with pytest.raises(ValueError, match="bins"):
        histogram([D(1)], bins=0)


def test_histogram_counts_every_value_once():
    rng = random.Random(3)
    for _ in range(50):
        values = [D(rng.randint(-(10**6), 10**6)) / 997 for _ in range(rng.randint(1, 300))]
        bins = rng.randint(1, 40)
        bars = histogram(values, bins=bins)
        assert sum(bar.count for bar in bars) == len(values)
        assert bars[0].low == min(values)
        assert bars[-1].high == max(values)
        assert all(a.high == b.low for a, b in pairwise(bars))


# --- downsample ----------------------------------------------------------------------------------


def test_downsample_keeps_ends_and_extremes_within_the_bound():
    """Over many random series: never more than max_points, ends kept, global min/max kept."""
    rng = random.Random(11)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(300):
        n = rng.randint(0, 600)
        value = 1000.0
        points = []
        for i in range(n):
            value += rng.gauss(0, 10)
            points.append((start + timedelta(minutes=i), D(f"{value:.2f}")))
        max_points = rng.randint(4, 80)
        kept = downsample(points, max_points)
        assert len(kept) <= max_points
        if not points:
            assert kept == []
            continue
        assert kept[0] == points[0]
        assert kept[-1] == points[-1]
        values = [v for _, v in kept]
        assert min(values) == min(v for _, v in points)
        assert max(values) == max(v for _, v in points)
        assert all(a[0] < b[0] for a, b in pairwise(kept))  # time order, no repeats
        assert set(kept) <= set(points)


def test_downsample_leaves_short_series_alone_and_needs_room():
    points = closes("1", "2", "3")
    assert downsample(points, 4) == points
    with pytest.raises(ValueError, match="at least 4"):
        downsample(points, 3)


# --- independent check ---------------------------------------------------------------------------


@pytest.mark.parametrize("with_flows", [False, True])
def test_ratios_and_drawdown_match_pandas(with_flows):
    """A random year of closes (and deposits/withdrawals): Sharpe, Sortino, max DD as pandas has them."""
    rng = random.Random(2025)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(365)]
    equity = 10_000.0
    series = []
    flows = {}
    for day in days:
        flow = 0.0
        if with_flows and day != days[0] and rng.random() < 0.05:
            flow = round(rng.choice([1, -1]) * rng.uniform(100, 2000), 2)
            flows[day] = D(f"{flow:.2f}")
        equity = round(equity * (1 + rng.gauss(0.001, 0.03)) + flow, 2)
        series.append((day, D(f"{equity:.2f}")))

    metrics = equity_metrics(series, flows=flows)

    close = pd.Series([float(v) for _, v in series], index=pd.Index([d for d, _ in series]))
    flow = pd.Series([float(flows.get(d, 0)) for d, _ in series], index=close.index)
    returns = ((close - close.shift(1) - flow) / close.shift(1)).dropna()
    sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(365)
    sortino = returns.mean() / math.sqrt((returns.clip(upper=0) ** 2).mean()) * math.sqrt(365)
    curve = pd.concat([pd.Series([1.0], index=close.index[:1]), (1 + returns).cumprod()])
    drawdown = curve / curve.cummax() - 1
    trough = drawdown.idxmin()

    assert (
        metrics.sharpe is not None
        and metrics.sortino is not None
        and metrics.max_drawdown is not None
    )
    assert abs(float(metrics.sharpe) - sharpe) < 1e-6
    assert abs(float(metrics.sortino) - sortino) < 1e-6
    assert abs(float(metrics.max_drawdown) - drawdown.min()) < 1e-6
    assert metrics.max_drawdown_trough == trough
    assert metrics.max_drawdown_peak == curve[:trough].idxmax()
    assert metrics.total_return is not None
    assert abs(float(metrics.total_return) - (curve.iloc[-1] - 1)) < 1e-6


# --- words ---------------------------------------------------------------------------------------


def test_every_metric_and_every_reason_has_a_plain_sentence():
    expected = {
        "win_rate",
        "profit_factor",
        "max_drawdown",
        "sharpe",
        "sortino",
        "average_win",
        "average_loss",
        "trades",
        "total_return",
    }
    assert expected <= METRIC_EXPLANATIONS.keys()
    assert all(str(text).strip() for text in METRIC_EXPLANATIONS.values())
    assert set(UNDEFINED_EXPLANATIONS) == set(Undefined)
    assert all(str(text).strip() for text in UNDEFINED_EXPLANATIONS.values())
