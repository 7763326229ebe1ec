"""The fee maths: hand-worked figures, then properties over random equity paths with flows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.fees import (
    Flow,
    annual_fee,
    annual_fee_due,
    fixed_fee,
    performance_fee,
    performance_rate,
    to_cent,
)

D = Decimal


def test_a_gain_above_the_hwm_is_charged_at_the_rate_to_the_cent():
    """1000 HWM, 1100.05 at the end, 15 %: 15.0075 rounds half up to 15.01; the HWM moves up."""
    fee = performance_fee(hwm_start=D(1000), equity_end=D("1100.05"), flows=[], rate=D("0.15"))

    assert (fee.gain, fee.fee, fee.hwm_end) == (D("100.05"), D("15.01"), D("1100.05"))


def test_below_the_hwm_nothing_is_charged_and_the_hwm_stays():
    """A loss month charges nothing and keeps the HWM where it was."""
    fee = performance_fee(hwm_start=D(1000), equity_end=D(900), flows=[], rate=D("0.2"))

    assert (fee.gain, fee.fee, fee.hwm_end) == (D(0), D(0), D(1000))


def test_a_deposit_raises_the_hwm_and_a_withdrawal_lowers_it_by_its_share():
    """HWM 1000; deposit 500 (HWM 1500); at equity 1600 withdraw 400, a quarter (HWM 1125);
    end 1300: gain 175, 20 % = 35."""
    flows = [Flow(D(500), D(1000)), Flow(D(-400), D(1600))]

    fee = performance_fee(hwm_start=D(1000), equity_end=D(1300), flows=flows, rate=D("0.2"))

    assert (fee.hwm_adjusted, fee.gain, fee.fee, fee.hwm_end) == (D(1125), D(175), D(35), D(1300))


def test_the_loyalty_rate_applies_after_the_operators_number_of_profitable_months():
    """12 profitable months lower 20 % by 2 points; 11 do not; 0 months means no rule."""
    args = {"plan_rate": D("0.20"), "loyalty_reduction": D("0.02")}

    assert performance_rate(profitable_months=12, loyalty_after=12, **args) == D("0.18")
    assert performance_rate(profitable_months=11, loyalty_after=12, **args) == D("0.20")
    assert performance_rate(profitable_months=99, loyalty_after=0, **args) == D("0.20")


def test_a_mid_month_start_pays_its_days_unless_the_first_month_is_free():
    """Started on 21 November (10 of 30 days): 75 x 10/30 = 25.00; free when the operator says;
    December is a full month."""
    nov, dec, start = date(2026, 11, 1), date(2026, 12, 1), date(2026, 11, 21)

    assert fixed_fee(
        monthly_fee=D(75), period_start=nov, subscribed_from=start, first_period_free=False
    ) == D("25.00")
    assert fixed_fee(
        monthly_fee=D(75), period_start=nov, subscribed_from=start, first_period_free=True
    ) == D(0)
    assert fixed_fee(
        monthly_fee=D(75), period_start=dec, subscribed_from=start, first_period_free=True
    ) == D("75.00")


def test_an_annual_plan_pays_twelve_months_less_the_discount_once_a_year():
    """Premium 100 x 12 less 15 % = 1020.00, due in the start month and twelve months later."""
    start = date(2026, 3, 10)

    assert annual_fee(monthly_fee=D(100), discount=D("0.15")) == D("1020.00")
    assert annual_fee_due(period_start=date(2026, 3, 1), subscribed_from=start)
    assert not annual_fee_due(period_start=date(2026, 4, 1), subscribed_from=start)
    assert annual_fee_due(period_start=date(2027, 3, 1), subscribed_from=start)


def test_invoice_lines_round_half_up_to_the_cent():
    """0.005 goes up, 0.0049 down, -0.005 away from zero."""
    assert [to_cent(D(x)) for x in ("0.005", "0.0049", "-0.005")] == [D("0.01"), D(0), D("-0.01")]


# Random paths. A month is a few events: trading P&L (equity moves, the books' "performance") or
# a flow (a deposit, or a withdrawal of a share of equity). Amounts are in cents.

cents = st.integers(min_value=1, max_value=5_000_000).map(lambda c: D(c) / 100)
event = st.one_of(
    st.tuples(st.just("pnl"), st.integers(-3_000_000, 3_000_000).map(lambda c: D(c) / 100)),
    st.tuples(st.just("deposit"), cents),
    st.tuples(st.just("withdraw"), st.integers(1, 100).map(lambda p: D(p) / 100)),
)
months = st.lists(st.lists(event, max_size=4), min_size=1, max_size=12)
# Above 12 months x 4 events x the largest loss: equity never reaches zero.
deep_pockets = st.integers(min_value=150_000_000, max_value=500_000_000).map(lambda c: D(c) / 100)
rates = st.sampled_from([D("0.20"), D("0.15"), D("0.10"), D("0.18"), D("0.125")])


@dataclass
class Month:
    flows: list[Flow]
    equity_end: Decimal
    pnl: Decimal


def play(start: Decimal, path: list[list[tuple[str, Decimal]]]) -> list[Month]:
    """Equity through the path; a loss never takes equity below zero; withdrawals are a share."""
    equity, out = start, []
    for events in path:
        flows, pnl = [], D(0)
        for kind, value in events:
            if kind == "pnl":
                moved = max(value, -equity)
                equity, pnl = equity + moved, pnl + moved
            elif kind == "deposit":
                flows.append(Flow(value, equity))
                equity += value
            else:
                amount = to_cent(equity * value)
                if amount > 0:
                    flows.append(Flow(-amount, equity))
                    equity -= amount
        out.append(Month(flows, equity, pnl))
    return out


def close_all(start: Decimal, months_: list[Month], rate: Decimal) -> list[Decimal]:
    """The code's fees, month after month, the HWM carried from close to close."""
    hwm, charged = start, []
    for month in months_:
        fee = performance_fee(
            hwm_start=hwm, equity_end=month.equity_end, flows=month.flows, rate=rate
        )
        charged.append(fee.fee)
        hwm = fee.hwm_end
    return charged


TEN_PLACES = Fraction(1, 10**10)


def half_up(value: Fraction, step: Fraction) -> Fraction:
    """Round a non-negative exact fraction to a multiple of ``step``, ties up."""
    units = value / step
    whole = units.numerator // units.denominator
    return (whole + (1 if units - whole >= Fraction(1, 2) else 0)) * step


def reference_fees(start: Decimal, months_: list[Month], rate: Decimal) -> list[Decimal]:
    """An independent calculation in exact fractions, from the rule in words: the mark rises by
    each deposit, shrinks by the withdrawn share of equity, is charged on what the month ends
    above it, and then stands at the higher of itself and the month's end (kept to 10 places)."""
    mark, out = Fraction(start), []
    for month in months_:
        for flow in month.flows:
            amount, before = Fraction(flow.amount), Fraction(flow.equity_before or 0)
            if amount >= 0:
                mark += amount
            elif before > 0:
                mark = max(mark * (1 - min(-amount / before, Fraction(1))), Fraction(0))
            else:
                mark = max(mark + amount, Fraction(0))
            mark = half_up(mark, TEN_PLACES)
        end = Fraction(month.equity_end)
        gain = end - mark if end > mark else Fraction(0)
        fee = half_up(Fraction(rate) * gain, Fraction(1, 100))
        out.append(D(fee.numerator) / D(fee.denominator))
        mark = max(mark, end)
    return out


@settings(max_examples=200, derandomize=True, deadline=None)
@given(start=cents, path=months, rate=rates)
def test_the_fee_equals_an_independent_reference_calculation(start, path, rate):
    """Over random paths with deposits and withdrawals, each month's fee is the reference's."""
    months_ = play(start, path)

    assert close_all(start, months_, rate) == reference_fees(start, months_, rate)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(start=cents, path=months, rate=rates)
def test_the_fee_is_never_negative_and_never_charged_on_flows_alone(start, path, rate):
    """No month is charged below zero, and a month with flows but no trading is charged
    nothing, however much was deposited or withdrawn."""
    months_ = play(start, path)

    for events, fee in zip(path, close_all(start, months_, rate), strict=True):
        assert fee >= 0
        if all(kind != "pnl" for kind, _ in events):
            assert fee == 0


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    start=deep_pockets,
    path=st.lists(
        st.lists(st.one_of(event.filter(lambda e: e[0] != "withdraw")), max_size=4),
        min_size=1,
        max_size=12,
    ),
    extra=cents,
    at=st.integers(0, 11),
    rate=rates,
)
def test_an_extra_deposit_changes_no_fee(start, path, extra, at, rate):
    """The same trading with one more deposit anywhere is charged exactly the same: a deposit is
    never billed as profit. (Equity starts high enough that no loss is cut short at zero, so both
    paths trade the same amounts.)"""
    with_deposit = [list(m) for m in path]
    with_deposit[at % len(path)].insert(0, ("deposit", extra))

    assert close_all(start, play(start, with_deposit), rate) == close_all(
        start, play(start, path), rate
    )


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    start=cents,
    path=st.lists(
        st.lists(event.filter(lambda e: e[0] == "pnl"), max_size=4), min_size=1, max_size=12
    ),
    rate=rates,
)
def test_no_gain_is_charged_twice(start, path, rate):
    """Without flows, the gains charged over the year add up to the best month-end above the
    start, never more: equity that falls and recovers is not charged again for the recovery."""
    months_ = play(start, path)
    hwm, charged_gains = start, D(0)
    for month in months_:
        fee = performance_fee(hwm_start=hwm, equity_end=month.equity_end, flows=[], rate=rate)
        charged_gains += fee.gain
        hwm = fee.hwm_end

    best = max(m.equity_end for m in months_)
    assert charged_gains == max(D(0), best - start)
