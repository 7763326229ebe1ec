"""The contract every strategy follows: pure functions over candles, no I/O, no Django but gettext.

A strategy reads closed candles (oldest first) and its parameters, and returns a :class:`Signal`:
the position it wants (long, short, flat, or hold what you have), a stop-loss distance and an
optional take-profit distance, and the reason in plain words. It does not know the account, the
equity or whether it runs live or in a backtest; the risk manager turns a signal into an order for
each bot. Because a signal depends only on (strategy, parameters, candles), it is computed once per
candle and shared by every bot that runs the same strategy with the same parameters.

Labels and parameter errors are shown to clients, so they are marked for translation with
``bots.strategies.text._``: English plus parameters, translated by the pages when shown. Strategies
import no Django (the import contract in ``pyproject.toml`` says so): they run anywhere (backtests,
notebooks).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.strategies.text import _


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed candle."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class Target(enum.StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"
    HOLD = "hold"  # keep whatever position the bot has


class NoDecisionCode(enum.StrEnum):
    """Why there is no decision for a candle; rendered in the reader's language at display time."""

    SHORT = "history.short"  # fewer consecutive closed candles than the lookback: "N of M candles"
    GAP = "history.gap"  # a candle inside the lookback is missing: "gap at HH:MM"


@dataclass(frozen=True, slots=True)
class NoDecision:
    """The guard's refusal: a code and its parameters, never a sentence (see ``NoDecisionCode``)."""

    code: NoDecisionCode
    have: int  # consecutive closed candles ending at the candle decided
    need: int  # the strategy's lookback
    gap_at: datetime | None = None  # the first missing start (``GAP``)


@dataclass(frozen=True, slots=True)
class Signal:
    """What the strategy wants now, and why; ``no_decision`` says why it could not decide."""

    target: Target
    reason: str
    stop_distance: Decimal | None = None  # price distance from entry to the stop-loss
    take_profit_distance: Decimal | None = None  # price distance from entry to the take-profit
    indicators: Mapping[str, Decimal] = field(default_factory=dict)
    no_decision: NoDecision | None = None


def decision_window(
    bars: Sequence[Bar], *, need: int, step: timedelta | None, decided_at: datetime | None
) -> Sequence[Bar] | NoDecision:
    """The bars a strategy may decide on, or why there are none.

    A decision needs ``need`` consecutive closed candles ending at the candle being decided
    (``decided_at``): counting stored candles would let a window with a hole in it pass as whole,
    and the indicators would then treat two candles hours apart as neighbours. The window returned
    is the whole consecutive run ending at that candle (at least ``need`` bars). With no ``step``
    (monthly candles, or a caller that does not know the interval) only the count is checked.
    The live tick, dry runs and backtests call this same guard (through ``Strategy.run``).
    """
    if step is None or not bars:
        if len(bars) < need:
            return NoDecision(NoDecisionCode.SHORT, have=len(bars), need=need)
        return bars
    if decided_at is not None and bars[-1].start != decided_at:
        # The candle being decided is not stored (yet): the hole is at that candle.
        return NoDecision(NoDecisionCode.GAP, have=0, need=need, gap_at=decided_at)
    run = 1
    while run < len(bars) and bars[-run].start - bars[-run - 1].start == step:
        run += 1
    if run >= need:
        return bars[-run:]
    if run < len(bars):
        return NoDecision(
            NoDecisionCode.GAP, have=run, need=need, gap_at=bars[-run - 1].start + step
        )
    return NoDecision(NoDecisionCode.SHORT, have=run, need=need)


class ParamKind(enum.StrEnum):
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One tunable parameter: forms and admin are built from these."""

    name: str
    kind: ParamKind
    default: Any
    label: str
    help: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def parse(self, raw: Any) -> Any:
        """The value as its kind, within bounds; ``ValueError`` says what is wrong."""
        if self.kind is ParamKind.BOOL:
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in {"true", "1", "yes", "on"}:
                return True
            if str(raw).lower() in {"false", "0", "no", "off", ""}:
                return False
            raise ValueError(_("%(label)s: choose yes or no.") % {"label": self.label})
        try:
            value: Any = int(str(raw)) if self.kind is ParamKind.INT else Decimal(str(raw))
        except (ValueError, ArithmeticError):
            if self.kind is ParamKind.INT:
                raise ValueError(
                    _("%(label)s: enter a whole number.") % {"label": self.label}
                ) from None
            raise ValueError(_("%(label)s: enter a number.") % {"label": self.label}) from None
        if self.kind is ParamKind.DECIMAL and not value.is_finite():
            raise ValueError(_("%(label)s: enter a number.") % {"label": self.label})
        if self.minimum is not None and value < self.minimum:
            raise ValueError(
                _("%(label)s: at least %(minimum)s.")
                % {"label": self.label, "minimum": self.minimum}
            )
        if self.maximum is not None and value > self.maximum:
            raise ValueError(
                _("%(label)s: at most %(maximum)s.")
                % {"label": self.label, "maximum": self.maximum}
            )
        return value


SignalFn = Callable[[Sequence[Bar], Mapping[str, Any]], Signal]


@dataclass(frozen=True, slots=True)
class Strategy:
    """A registered strategy: its function, parameters and how many candles it needs."""

    name: str
    label: str
    description: str
    params: tuple[ParamSpec, ...]
    signal: SignalFn
    warmup: Callable[[Mapping[str, Any]], int]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def clean_params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, every value parsed and bounded; errors collected per parameter."""
        cleaned, errors = {}, {}
        for spec in self.params:
            try:
                cleaned[spec.name] = spec.parse(raw.get(spec.name, spec.default))
            except ValueError as exc:
                # The ``Text`` itself (not ``str(exc)``), so that the page can translate it.
                errors[spec.name] = exc.args[0] if exc.args else str(exc)
        unknown = set(raw) - {p.name for p in self.params}
        for name in sorted(unknown):
            errors[name] = _("%(name)s: not a parameter of %(strategy)s.") % {
                "name": name,
                "strategy": self.label,
            }
        if errors:
            raise InvalidParameters(errors)
        return cleaned

    def run(
        self,
        bars: Sequence[Bar],
        params: Mapping[str, Any],
        *,
        step: timedelta | None = None,
        decided_at: datetime | None = None,
    ) -> Signal:
        """The signal for the candle decided, or HOLD with ``no_decision`` (``decision_window``).

        ``step`` is the candles' interval and ``decided_at`` the start of the candle being decided
        (the last bar's, when omitted): with both, the window must be whole, not only long enough.
        """
        window = decision_window(
            bars,
            need=self.warmup(params),
            step=step,
            decided_at=decided_at if decided_at is not None or not bars else bars[-1].start,
        )
        if isinstance(window, NoDecision):
            return Signal(Target.HOLD, "", no_decision=window)
        return self.signal(window, params)


class InvalidParameters(ValueError):
    """Parameter errors by name, each a sentence a client can act on."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)
