"""Indicators in Decimal over closed candles (oldest first). Pure and small on purpose."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from bots.strategies.base import Bar

TWO = Decimal(2)


def ema(values: Sequence[Decimal], period: int) -> list[Decimal]:
    """Exponential moving average, seeded with the simple average of the first ``period`` values."""
    if len(values) < period:
        return []
    alpha = TWO / (period + 1)
    current = sum(values[:period], Decimal(0)) / period
    out = [current]
    for value in values[period:]:
        current = current + alpha * (value - current)
        out.append(current)
    return out


def sma(values: Sequence[Decimal], period: int) -> Decimal:
    return sum(values[-period:], Decimal(0)) / period


def stdev(values: Sequence[Decimal], period: int) -> Decimal:
    """Population standard deviation of the last ``period`` values."""
    window = values[-period:]
    mean = sum(window, Decimal(0)) / period
    return (sum(((v - mean) ** 2 for v in window), Decimal(0)) / period).sqrt()


def true_ranges(bars: Sequence[Bar]) -> list[Decimal]:
    out = []
    for previous, bar in pairwise(bars):
        out.append(
            max(bar.high - bar.low, abs(bar.high - previous.close), abs(bar.low - previous.close))
        )
    return out


def atr(bars: Sequence[Bar], period: int) -> Decimal:
    """Wilder's average true range over the bars given (needs ``period + 1`` bars)."""
    ranges = true_ranges(bars)
    if len(ranges) < period:
        raise ValueError("not enough candles for ATR")
    current = sum(ranges[:period], Decimal(0)) / period
    for value in ranges[period:]:
        current = (current * (period - 1) + value) / period
    return current


def rsi(closes: Sequence[Decimal], period: int) -> Decimal:
    """Wilder's relative strength index of the last close (0-100)."""
    if len(closes) < period + 1:
        raise ValueError("not enough candles for RSI")
    changes = [b - a for a, b in pairwise(closes)]
    gains = [max(c, Decimal(0)) for c in changes]
    losses = [max(-c, Decimal(0)) for c in changes]
    avg_gain = sum(gains[:period], Decimal(0)) / period
    avg_loss = sum(losses[:period], Decimal(0)) / period
    for gain, loss in zip(gains[period:], losses[period:], strict=True):
        avg_gain = (avg_gain * (period - 1) + gain) / period
        avg_loss = (avg_loss * (period - 1) + loss) / period
    if avg_loss == 0:
        return Decimal(100)
    return Decimal(100) - Decimal(100) / (1 + avg_gain / avg_loss)
