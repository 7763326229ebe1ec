"""Mean reversion: Bollinger bands confirmed by RSI.

Buys when the close falls below the lower band while RSI says oversold, sells short (when allowed)
above the upper band while RSI says overbought, and goes flat once price is back at the middle
band. In between it holds. The take-profit is the distance back to the middle band; the stop is a
multiple of ATR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bots.strategies.base import Bar, ParamKind, ParamSpec, Signal, Strategy, Target
from bots.strategies.indicators import atr, rsi, sma, stdev
from bots.strategies.text import _
from tradingsvc.lib.phrases import Phrase

PARAMS = (
    ParamSpec(
        "bb_period",
        ParamKind.INT,
        20,
        _("Bollinger period (candles)"),
        minimum=Decimal(5),
        maximum=Decimal(200),
    ),
    ParamSpec(
        "bb_width",
        ParamKind.DECIMAL,
        Decimal("2"),
        _("Band width (x standard deviation)"),
        minimum=Decimal("0.5"),
        maximum=Decimal("5"),
    ),
    ParamSpec(
        "rsi_period",
        ParamKind.INT,
        14,
        _("RSI period (candles)"),
        minimum=Decimal(2),
        maximum=Decimal(100),
    ),
    ParamSpec(
        "rsi_oversold",
        ParamKind.DECIMAL,
        Decimal("30"),
        _("RSI oversold below"),
        minimum=Decimal(1),
        maximum=Decimal(50),
    ),
    ParamSpec(
        "rsi_overbought",
        ParamKind.DECIMAL,
        Decimal("70"),
        _("RSI overbought above"),
        minimum=Decimal(50),
        maximum=Decimal(99),
    ),
    ParamSpec(
        "atr_period",
        ParamKind.INT,
        14,
        _("ATR period (candles)"),
        minimum=Decimal(2),
        maximum=Decimal(100),
    ),
    ParamSpec(
        "atr_stop_multiple",
        ParamKind.DECIMAL,
        Decimal("1.5"),
        _("Stop distance (x ATR)"),
        minimum=Decimal("0.5"),
        maximum=Decimal("10"),
    ),
    ParamSpec("allow_short", ParamKind.BOOL, True, _("Allow short positions")),
)


def warmup(params: Mapping[str, Any]) -> int:
    return (
        max(int(params["bb_period"]), int(params["rsi_period"]) + 1, int(params["atr_period"]) + 1)
        + 1
    )


def signal(bars: Sequence[Bar], params: Mapping[str, Any]) -> Signal:
    closes = [b.close for b in bars]
    close = closes[-1]
    period = int(params["bb_period"])
    middle = sma(closes, period)
    width = stdev(closes, period) * Decimal(params["bb_width"])
    lower, upper = middle - width, middle + width
    strength = rsi(closes, int(params["rsi_period"]))
    stop = atr(bars, int(params["atr_period"])) * Decimal(params["atr_stop_multiple"])
    to_middle = abs(middle - close)
    indicators = {
        "bb_lower": lower,
        "bb_middle": middle,
        "bb_upper": upper,
        "rsi": strength,
        "stop_distance": stop,
    }
    if close < lower and strength < Decimal(params["rsi_oversold"]):
        return Signal(
            Target.LONG,
            Phrase(
                "mean_reversion.oversold",
                "Oversold: close %(close)s is under the lower band %(lower)s and RSI is %(rsi)s.",
                close=close,
                lower=f"{lower:.2f}",
                rsi=f"{strength:.1f}",
            ),
            stop,
            to_middle or None,
            indicators,
        )
    if close > upper and strength > Decimal(params["rsi_overbought"]) and params["allow_short"]:
        return Signal(
            Target.SHORT,
            Phrase(
                "mean_reversion.overbought",
                "Overbought: close %(close)s is over the upper band %(upper)s and RSI is %(rsi)s.",
                close=close,
                upper=f"{upper:.2f}",
                rsi=f"{strength:.1f}",
            ),
            stop,
            to_middle or None,
            indicators,
        )
    if abs(close - middle) <= width * Decimal("0.1"):
        return Signal(
            Target.FLAT,
            Phrase(
                "mean_reversion.middle",
                "Back at the middle band %(middle)s: take any position off.",
                middle=f"{middle:.2f}",
            ),
            indicators=indicators,
        )
    return Signal(
        Target.HOLD,
        Phrase(
            "mean_reversion.between",
            "Between the bands (RSI %(rsi)s): nothing to do.",
            rsi=f"{strength:.1f}",
        ),
        indicators=indicators,
    )


STRATEGY = Strategy(
    name="mean_reversion",
    label=_("Mean reversion (Bollinger + RSI)"),
    description=__doc__ or "",
    params=PARAMS,
    signal=signal,
    warmup=warmup,
)
