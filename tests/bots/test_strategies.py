"""Strategies are pure: real candles in, a signal with a reason out; parameters validated."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bots.strategies import (
    REGISTRY,
    Bar,
    InvalidParameters,
    NoDecision,
    NoDecisionCode,
    Target,
    decision_window,
    get_strategy,
)
from bots.strategies.indicators import atr, ema, rsi

HOUR = timedelta(hours=1)
DATA = Path(__file__).resolve().parents[2] / "exchange" / "simulator" / "data" / "BTCUSDT_60.csv.gz"


def real_bars(count: int = 400) -> list[Bar]:
    """The first ``count`` real BTCUSDT 1h candles shipped with the simulator."""
    bars = []
    with gzip.open(DATA, "rt") as handle:
        header = handle.readline().strip().split(",")
        for line in handle:
            row = dict(zip(header, line.strip().split(","), strict=False))
            bars.append(
                Bar(
                    start=datetime.fromtimestamp(int(row["start_ms"]) / 1000, tz=UTC),
                    open=Decimal(row["open"]),
                    high=Decimal(row["high"]),
                    low=Decimal(row["low"]),
                    close=Decimal(row["close"]),
                    volume=Decimal(row["volume"]),
                )
            )
            if len(bars) == count:
                break
    return bars


def flat(price: str, n: int) -> list[Bar]:
    p = Decimal(price)
    return [Bar(datetime(2025, 1, 1, tzinfo=UTC), p, p, p, p, Decimal(1)) for _ in range(n)]


def test_ema_matches_a_hand_computed_value():
    values = [Decimal(v) for v in ("1", "2", "3", "4", "5")]
    # Seed SMA(3) of 1,2,3 = 2; alpha = 0.5: 2 + 0.5*(4-2) = 3; 3 + 0.5*(5-3) = 4
    assert ema(values, 3) == [Decimal(2), Decimal(3), Decimal(4)]


def test_rsi_of_a_steady_rise_is_100_and_atr_of_flat_prices_is_zero():
    rising = [Decimal(i) for i in range(1, 20)]
    assert rsi(rising, 14) == Decimal(100)
    assert atr(flat("100", 20), 14) == 0


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_strategy_gives_a_reasoned_signal_on_real_candles(name):
    strategy = get_strategy(name)
    params = strategy.defaults()
    bars = real_bars()
    seen = set()
    for end in range(strategy.warmup(params), len(bars)):
        signal = strategy.run(bars[:end], params)
        assert signal.reason
        if signal.target in (Target.LONG, Target.SHORT):
            assert signal.stop_distance is not None and signal.stop_distance > 0
        seen.add(signal.target)
    assert len(seen) >= 2, f"{name} should change its mind over 400 real hours: saw {seen}"


def test_not_enough_history_holds_and_says_why():
    """Ten candles for a 27-candle lookback: HOLD, with the code and counts (no sentence)."""
    strategy = get_strategy("trend_ema")

    signal = strategy.run(real_bars(10), strategy.defaults())

    assert signal.target is Target.HOLD
    assert signal.no_decision == NoDecision(NoDecisionCode.SHORT, have=10, need=27)


def test_a_window_with_a_hole_is_not_decided_over():
    """400 stored hourly candles with one missing 5 hours back: counting them would pass a
    27-candle lookback; the guard sees only the 5 consecutive ones and names the gap."""
    strategy = get_strategy("trend_ema")
    bars = real_bars(400)
    holed = bars[:-6] + bars[-5:]

    signal = strategy.run(holed, strategy.defaults(), step=HOUR, decided_at=bars[-1].start)

    assert signal.no_decision == NoDecision(
        NoDecisionCode.GAP, have=5, need=27, gap_at=bars[-6].start
    )
    assert strategy.run(bars, strategy.defaults(), step=HOUR).no_decision is None


def test_the_window_must_end_at_the_candle_decided():
    """Whole history that stops an hour before the candle being decided is not decided on."""
    bars = real_bars(60)
    decided_at = bars[-1].start + HOUR

    window = decision_window(bars, need=27, step=HOUR, decided_at=decided_at)

    assert window == NoDecision(NoDecisionCode.GAP, have=0, need=27, gap_at=decided_at)


def test_the_window_is_the_consecutive_run_ending_at_the_candle():
    """A hole older than the lookback is fine: the strategy gets the run after it, no older bars."""
    bars = real_bars(100)
    holed = bars[:40] + bars[41:]

    window = decision_window(holed, need=27, step=HOUR, decided_at=bars[-1].start)

    assert list(window) == bars[41:]


def test_trend_following_goes_long_in_an_uptrend():
    strategy = get_strategy("trend_ema")
    bars = [
        Bar(
            datetime(2025, 1, 1, tzinfo=UTC),
            Decimal(p),
            Decimal(p + 1),
            Decimal(p - 1),
            Decimal(p),
            Decimal(1),
        )
        for p in range(100, 160)
    ]
    signal = strategy.run(bars, strategy.defaults())
    assert signal.target is Target.LONG
    # ATR of bars 1 wide with 1-point steps is 2 (high - previous close); stop = 2 x ATR = 4.
    assert signal.stop_distance == Decimal(4) and signal.take_profit_distance == Decimal(8)


def test_parameters_are_validated_with_plain_messages():
    strategy = get_strategy("trend_ema")
    with pytest.raises(InvalidParameters) as err:
        strategy.clean_params({"fast_period": "abc", "atr_stop_multiple": "50", "bogus": 1})
    assert err.value.errors["fast_period"] == "Fast EMA (candles): enter a whole number."
    assert err.value.errors["atr_stop_multiple"] == "Stop distance (x ATR): at most 10."
    assert "not a parameter" in err.value.errors["bogus"]
    assert strategy.clean_params({"fast_period": "9"})["fast_period"] == 9
