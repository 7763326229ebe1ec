"""The risk manager sizes in Decimal from equity and stop distance, rounds to lot and tick, and refuses with reasons."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from bots.risk import AccountState, Breaker, RiskLimits, decide, risk_warnings
from bots.strategies.base import Signal, Target
from exchange.types import Instrument

D = Decimal
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BTC = Instrument(
    symbol="BTCUSDT",
    status="Trading",
    base_coin="BTC",
    quote_coin="USDT",
    tick_size=D("0.1"),
    min_price=D("0.1"),
    max_price=D("1999999.8"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("1190"),
    max_market_qty=D("119"),
    min_notional=D("5"),
    min_leverage=D("1"),
    max_leverage=D("100"),
    leverage_step=D("0.01"),
)
LIMITS = RiskLimits(
    risk_per_trade=D("0.01"),
    max_position_multiple=D("3"),
    max_leverage=D("5"),
    daily_loss_limit=D("0.03"),
    max_drawdown=D("0.10"),
    allowed_symbols=frozenset({"BTCUSDT"}),
)
FLAT_ACCOUNT = AccountState(equity=D("10000"), day_start_equity=D("10000"), peak_equity=D("10000"))


NO_POSITION, PRICE = D(0), D("50000")


def run(
    signal,
    position=NO_POSITION,
    account=FLAT_ACCOUNT,
    limits=LIMITS,
    kill=None,
    now=NOW,
    price=PRICE,
):
    return decide(
        signal=signal,
        symbol="BTCUSDT",
        position_qty=position,
        price=price,
        account=account,
        limits=limits,
        instrument=BTC,
        now=now,
        kill_switch=kill,
    )


def test_long_is_sized_from_equity_and_stop_distance_and_rounded_down_to_the_lot():
    # 10,000 x 1% / 730 = 0.136986... -> 0.136 BTC (rounded down: never more risk than asked)
    decision = run(
        Signal(Target.LONG, "up", stop_distance=D("730"), take_profit_distance=D("1460"))
    )
    (leg,) = decision.legs
    assert (leg.side, leg.qty, leg.reduce_only) == ("Buy", D("0.136"), False)
    assert leg.stop_loss == D("49270.0") and leg.take_profit == D("51460.0")
    assert decision.target_qty == D("0.136")


def test_size_is_capped_by_the_position_limit():
    # A 50-dollar stop would allow 2 BTC (100,000 USDT); the cap is 3 x 10,000 / 50,000 = 0.6 BTC.
    decision = run(Signal(Target.LONG, "up", stop_distance=D("50")))
    assert decision.legs[0].qty == D("0.600")
    assert "capped at 3x equity" in decision.reasons[-1]


def test_short_stop_and_take_profit_round_towards_the_entry():
    decision = run(
        Signal(Target.SHORT, "down", stop_distance=D("333.33"), take_profit_distance=D("123.45"))
    )
    leg = decision.legs[0]
    assert leg.side == "Sell"
    assert leg.stop_loss == D("50333.3")  # 50,333.33 rounded down: closer to the entry
    assert leg.take_profit == D("49876.6")  # 49,876.55 rounded up: a slightly smaller target


def test_reversal_closes_reduce_only_then_opens():
    decision = run(Signal(Target.SHORT, "flip", stop_distance=D("1000")), position=D("0.2"))
    close, open_ = decision.legs
    assert (close.leg, close.side, close.qty, close.reduce_only) == (0, "Sell", D("0.2"), True)
    assert (open_.leg, open_.side, open_.qty) == (1, "Sell", D("0.100"))


def test_same_direction_holds_and_flat_closes():
    assert run(Signal(Target.LONG, "up", stop_distance=D("500")), position=D("0.1")).legs == ()
    (leg,) = run(Signal(Target.FLAT, "done"), position=D("-0.3")).legs
    assert (leg.side, leg.qty, leg.reduce_only) == ("Buy", D("0.3"), True)


def test_circuit_breaker_trips_on_daily_loss_and_on_drawdown():
    daily = AccountState(equity=D("9700"), day_start_equity=D("10000"), peak_equity=D("10000"))
    decision = run(Signal(Target.LONG, "up", stop_distance=D("500")), account=daily)
    assert decision.breaker is Breaker.DAILY_LOSS and decision.legs == ()
    assert "Daily loss 3.00% reached the limit of 3.00%" in decision.reasons[-1]
    deep = AccountState(equity=D("8990"), day_start_equity=D("9000"), peak_equity=D("10000"))
    assert (
        run(Signal(Target.LONG, "up", stop_distance=D("500")), account=deep).breaker
        is Breaker.DRAWDOWN
    )


def test_kill_switch_symbols_and_trading_hours_block_new_positions():
    signal = Signal(Target.LONG, "up", stop_distance=D("500"))
    assert "Kill switch on (tenant)" in run(signal, kill="tenant").reasons[-1]
    other = RiskLimits(**{**LIMITS.__dict__, "allowed_symbols": frozenset({"ETHUSDT"})})
    assert "not among the allowed symbols" in run(signal, limits=other).reasons[-1]
    office = RiskLimits(**{**LIMITS.__dict__, "trading_start": time(14), "trading_end": time(22)})
    assert "Outside trading hours" in run(signal, limits=office).reasons[-1]
    # ...but closing is always allowed outside hours.
    assert run(Signal(Target.FLAT, "done"), position=D("0.1"), limits=office).legs


def test_a_position_below_the_minimum_is_not_placed():
    tiny = AccountState(equity=D("10"), day_start_equity=D("10"), peak_equity=D("10"))
    decision = run(Signal(Target.LONG, "up", stop_distance=D("5000")), account=tiny)
    assert decision.legs == () and "too small" in decision.reasons[-1]


def test_no_stop_means_no_position_unless_the_template_has_a_default():
    assert "refusing" in run(Signal(Target.LONG, "up")).reasons[-1]
    with_default = RiskLimits(**{**LIMITS.__dict__, "default_stop_fraction": D("0.02")})
    assert run(Signal(Target.LONG, "up"), limits=with_default).legs[0].qty == D(
        "0.100"
    )  # 100 / 1000


def test_high_risk_settings_are_warned_about():
    bold = RiskLimits(**{**LIMITS.__dict__, "risk_per_trade": D("0.05"), "max_leverage": D("20")})
    warnings = risk_warnings(bold)
    assert any("5.0% per trade is high" in w for w in warnings)
    assert any("Leverage up to 20x" in w for w in warnings)
    assert risk_warnings(LIMITS) == []
