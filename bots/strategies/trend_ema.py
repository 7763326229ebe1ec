"""Trend following: EMA crossover with an ATR stop.

Long while the fast EMA is above the slow one, short (when allowed) while it is below, flat
otherwise. The stop sits a multiple of the average true range away, so it widens when the market
is wild and the risk manager sizes the position smaller for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bots.strategies.base import Bar, ParamKind, ParamSpec, Signal, Strategy, Target
from bots.strategies.indicators import atr, ema
from bots.strategies.text import _
from tradingsvc.lib.phrases import Phrase

PARAMS = (
    ParamSpec(
        "fast_period",
        ParamKind.INT,
        12,
        _("Fast EMA (candles)"),
        minimum=Decimal(2),
        maximum=Decimal(200),
    ),
    ParamSpec(
        "slow_period",
        ParamKind.INT,
        26,
        _("Slow EMA (candles)"),
        minimum=Decimal(3),
        maximum=Decimal(400),
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
        Decimal("2"),
        _("Stop distance (x ATR)"),
        minimum=Decimal("0.5"),
        maximum=Decimal("10"),
    ),
    ParamSpec(
        "reward_risk",
        ParamKind.DECIMAL,
        Decimal("2"),
        _("Take-profit (x stop distance, 0 = none)"),
        minimum=Decimal("0"),
        maximum=Decimal("20"),
    ),
    ParamSpec("allow_short", ParamKind.BOOL, True, _("Allow short positions")),
)


def warmup(params: Mapping[str, Any]) -> int:
    return max(int(params["slow_period"]), int(params["atr_period"]) + 1) + 1


def signal(bars: Sequence[Bar], params: Mapping[str, Any]) -> Signal:
    fast_n, slow_n = int(params["fast_period"]), int(params["slow_period"])
    if fast_n >= slow_n:
        return Signal(
            Target.HOLD,
            Phrase(
                "trend_ema.bad_periods", "The fast EMA must be shorter than the slow one; holding."
            ),
        )
    closes = [b.close for b in bars]
    fast, slow = ema(closes, fast_n)[-1], ema(closes, slow_n)[-1]
    stop = atr(bars, int(params["atr_period"])) * Decimal(params["atr_stop_multiple"])
    rr = Decimal(params["reward_risk"])
    take_profit = stop * rr if rr > 0 else None
    indicators = {"ema_fast": fast, "ema_slow": slow, "stop_distance": stop}
    if fast > slow:
        return Signal(
            Target.LONG,
            Phrase(
                "trend_ema.up",
                "Uptrend: fast EMA %(fast)s is above slow EMA %(slow)s.",
                fast=f"{fast:.2f}",
                slow=f"{slow:.2f}",
            ),
            stop,
            take_profit,
            indicators,
        )
    if fast < slow and params["allow_short"]:
        return Signal(
            Target.SHORT,
            Phrase(
                "trend_ema.down",
                "Downtrend: fast EMA %(fast)s is below slow EMA %(slow)s.",
                fast=f"{fast:.2f}",
                slow=f"{slow:.2f}",
            ),
            stop,
            take_profit,
            indicators,
        )
    return Signal(
        Target.FLAT,
        Phrase(
            "trend_ema.no_up",
            "No uptrend: fast EMA %(fast)s is not above slow EMA %(slow)s.",
            fast=f"{fast:.2f}",
            slow=f"{slow:.2f}",
        ),
        indicators=indicators,
    )


STRATEGY = Strategy(
    name="trend_ema",
    label=_("Trend following (EMA cross, ATR stop)"),
    description=__doc__ or "",
    params=PARAMS,
    signal=signal,
    warmup=warmup,
)
