"""Funding of the perpetuals: when it settles and at what rate.

Bybit settles USDT perpetual funding every ``fundingInterval`` minutes (480 for BTCUSDT and
ETHUSDT: 00:00, 08:00 and 16:00 UTC) on every position open at that instant:
``funding fee = position value (size x mark price) x funding rate``, paid by longs to shorts when
the rate is positive and the other way when it is negative.

The shipped candle files carry no funding rates, so the rate is a model, Bybit's own formula
applied to the simulated market: ``rate = premium index + clamp(interest - premium index, -0.05 %,
+0.05 %)`` with the interest rate 0.01 % per interval. The simulator's mark price equals its index
price (no basis), so the premium index is 0 and every settlement is at exactly 0.01 %, for each
symbol. ``docs/simulator.md`` states this.
"""

from __future__ import annotations

from decimal import Decimal

FUNDING_INTERVAL_MS = 8 * 3_600_000
FUNDING_INTERVAL_MINUTES = 480
INTEREST_RATE = Decimal("0.0001")
CLAMP = Decimal("0.0005")


def premium_index(symbol: str, t: int) -> Decimal:
    """Mark equals index in the simulator, so there is no premium to average."""
    return Decimal(0)


def funding_rate(symbol: str, t: int) -> Decimal:
    """The rate settled at funding time ``t`` (Bybit's formula; see the module docstring)."""
    premium = premium_index(symbol, t)
    return premium + min(max(INTEREST_RATE - premium, -CLAMP), CLAMP)


def next_funding_time(t: int) -> int:
    """The first settlement strictly after sim time ``t``."""
    return t - t % FUNDING_INTERVAL_MS + FUNDING_INTERVAL_MS
