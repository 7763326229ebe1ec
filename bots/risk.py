"""The risk manager: turns a shared strategy signal into this bot's orders, or refuses, with reasons.

Pure and Decimal-only, like the strategies: equity, price, the bot's position, its limits and the
instrument's rules in; order legs out. Sizing risks ``risk_per_trade`` of equity between entry and
stop: ``qty = equity x risk / stop distance``, then capped by the largest position the limits allow
(``max_position_multiple`` x equity, never above ``max_leverage`` x equity), and rounded *down* to
the lot step. Prices are rounded to the tick on the safe side.

A position is entered when the bot is flat and reversed (close first, then open) when the signal
flips; it is not resized every candle, which would churn fees. The circuit breaker trips on the
daily loss or the drawdown limit; the kill switch and trading hours only allow reducing risk.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from bots.strategies.base import Signal, Target
from exchange.types import Instrument
from tradingsvc.lib.phrases import Phrase

ZERO = Decimal(0)


@dataclass(frozen=True)
class RiskLimits:
    """A bot's limits (copied from its risk template, tuned within the template's bounds)."""

    risk_per_trade: Decimal  # fraction of equity lost if the stop is hit, e.g. 0.01
    max_position_multiple: Decimal  # largest position value as a multiple of equity
    max_leverage: Decimal
    daily_loss_limit: Decimal  # fraction of the day's starting equity
    max_drawdown: Decimal  # fraction below the highest equity seen
    allowed_symbols: frozenset[str]
    trading_start: time | None = None  # UTC; None = around the clock
    trading_end: time | None = None
    default_stop_fraction: Decimal | None = None  # used when the strategy gives no stop
    default_take_profit_fraction: Decimal | None = None


@dataclass(frozen=True)
class AccountState:
    equity: Decimal
    day_start_equity: Decimal
    peak_equity: Decimal


class Breaker(enum.StrEnum):
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"


@dataclass(frozen=True)
class OrderLeg:
    """One order to send. ``leg`` numbers the orders of one decision (part of the orderLinkId)."""

    leg: int
    side: str  # "Buy" | "Sell"
    qty: Decimal
    reduce_only: bool
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


@dataclass(frozen=True)
class RiskDecision:
    legs: tuple[OrderLeg, ...]
    target_qty: Decimal | None  # signed; None = keep what we have
    reasons: tuple[str, ...]
    breaker: Breaker | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def breaker_tripped(limits: RiskLimits, account: AccountState) -> tuple[Breaker, str] | None:
    """The circuit breaker: daily loss first, then drawdown from the peak."""
    if account.day_start_equity > 0:
        loss = (account.day_start_equity - account.equity) / account.day_start_equity
        if loss >= limits.daily_loss_limit:
            return Breaker.DAILY_LOSS, Phrase(
                "risk.breaker.daily_loss",
                "Daily loss %(loss)s reached the limit of %(limit)s: paused until you resume.",
                loss=f"{loss:.2%}",
                limit=f"{limits.daily_loss_limit:.2%}",
            )
    if account.peak_equity > 0:
        drawdown = (account.peak_equity - account.equity) / account.peak_equity
        if drawdown >= limits.max_drawdown:
            return Breaker.DRAWDOWN, Phrase(
                "risk.breaker.drawdown",
                "Drawdown %(drawdown)s from the peak reached the limit of %(limit)s: "
                "paused until you resume.",
                drawdown=f"{drawdown:.2%}",
                limit=f"{limits.max_drawdown:.2%}",
            )
    return None


def within_trading_hours(limits: RiskLimits, now: datetime) -> bool:
    if limits.trading_start is None or limits.trading_end is None:
        return True
    t = now.time()
    if limits.trading_start <= limits.trading_end:
        return limits.trading_start <= t < limits.trading_end
    return t >= limits.trading_start or t < limits.trading_end  # window across midnight


def position_size(
    *,
    limits: RiskLimits,
    equity: Decimal,
    price: Decimal,
    stop_distance: Decimal,
    instrument: Instrument,
) -> tuple[Decimal, str]:
    """The unsigned quantity that risks ``risk_per_trade`` of equity, capped and lot-rounded."""
    risk_qty = equity * limits.risk_per_trade / stop_distance
    cap_multiple = min(limits.max_position_multiple, limits.max_leverage, instrument.max_leverage)
    cap_qty = equity * cap_multiple / price
    note = Phrase(
        "risk.size.risking",
        "risking %(risk)s of equity over a stop %(stop)s away",
        risk=f"{limits.risk_per_trade:.2%}",
        stop=stop_distance,
    )
    qty = risk_qty
    if cap_qty < risk_qty:
        qty = cap_qty
        note = Phrase(
            "risk.size.capped",
            "capped at %(multiple)sx equity (the risk budget alone would allow more)",
            multiple=cap_multiple,
        )
    qty = min(instrument.quantize_qty(qty), instrument.max_qty)
    return qty, note


def decide(
    *,
    signal: Signal,
    symbol: str,
    position_qty: Decimal,
    price: Decimal,
    account: AccountState,
    limits: RiskLimits,
    instrument: Instrument,
    now: datetime,
    kill_switch: str | None = None,
) -> RiskDecision:
    """This bot's orders for the signal, or none, with every reason in plain words."""
    reasons = [signal.reason]
    tripped = breaker_tripped(limits, account)
    if tripped is not None:
        return RiskDecision((), None, (*reasons, tripped[1]), breaker=tripped[0])
    if kill_switch:
        said = Phrase(
            f"risk.kill_switch.{kill_switch}",
            "Kill switch on (%(scope)s): no new orders.",
            scope=kill_switch,
        )
        return RiskDecision((), None, (*reasons, said))
    if symbol not in limits.allowed_symbols:
        said = Phrase(
            "risk.symbol_not_allowed", "%(symbol)s is not among the allowed symbols.", symbol=symbol
        )
        return RiskDecision((), None, (*reasons, said))

    target = signal.target
    if target is Target.HOLD:
        return RiskDecision((), None, tuple(reasons))
    if target in (Target.LONG, Target.SHORT) and not within_trading_hours(limits, now):
        return RiskDecision(
            (),
            None,
            (*reasons, Phrase("risk.outside_hours", "Outside trading hours: no new positions.")),
        )

    if target is Target.FLAT:
        if position_qty == 0:
            return RiskDecision((), ZERO, tuple(reasons))
        return RiskDecision(
            (_close_leg(position_qty, leg=0),),
            ZERO,
            (*reasons, Phrase("risk.closing", "Closing the position.")),
        )

    direction = 1 if target is Target.LONG else -1
    if position_qty * direction > 0:
        return RiskDecision(
            (), None, (*reasons, Phrase("risk.holding", "Already positioned that way: holding."))
        )

    stop_distance = signal.stop_distance
    if stop_distance is None and limits.default_stop_fraction:
        stop_distance = price * limits.default_stop_fraction
    if not stop_distance or stop_distance <= 0:
        said = Phrase(
            "risk.no_stop", "No stop-loss distance: refusing to size a position without one."
        )
        return RiskDecision((), None, (*reasons, said))

    qty, note = position_size(
        limits=limits,
        equity=account.equity,
        price=price,
        stop_distance=stop_distance,
        instrument=instrument,
    )
    problem = instrument.qty_problem(qty, price, market=True)
    if qty <= 0 or problem:
        why = problem or Phrase("qty.zero", "quantity rounds to zero")
        said = Phrase("risk.too_small", "Position too small to place: %(why)s.", why=why)
        return RiskDecision((), None, (*reasons, said))

    legs: list[OrderLeg] = []
    if position_qty != 0:
        legs.append(_close_leg(position_qty, leg=0))
    stop, take = _protective_prices(direction, price, stop_distance, signal, limits, instrument)
    legs.append(
        OrderLeg(
            leg=len(legs),
            side="Buy" if direction > 0 else "Sell",
            qty=qty,
            reduce_only=False,
            stop_loss=stop,
            take_profit=take,
        )
    )
    verb = "Reversing" if position_qty != 0 else "Opening"
    side = "long" if direction > 0 else "short"
    said = Phrase(
        f"risk.{verb.lower()}_{side}",
        f"{verb} {side} %(qty)s %(symbol)s, %(note)s.",
        qty=qty,
        symbol=symbol,
        note=note,
    )
    return RiskDecision(tuple(legs), qty * direction, (*reasons, said))


def _close_leg(position_qty: Decimal, *, leg: int) -> OrderLeg:
    return OrderLeg(
        leg=leg, side="Sell" if position_qty > 0 else "Buy", qty=abs(position_qty), reduce_only=True
    )


def _protective_prices(
    direction: int,
    price: Decimal,
    stop_distance: Decimal,
    signal: Signal,
    limits: RiskLimits,
    instrument: Instrument,
) -> tuple[Decimal, Decimal | None]:
    """Stop-loss and take-profit, rounded to the tick towards the entry (less risk, smaller target)."""
    tp_distance = signal.take_profit_distance
    if tp_distance is None and limits.default_take_profit_fraction:
        tp_distance = price * limits.default_take_profit_fraction
    if direction > 0:
        stop = instrument.quantize_price(price - stop_distance, ROUND_UP)
        take = instrument.quantize_price(price + tp_distance, ROUND_DOWN) if tp_distance else None
    else:
        stop = instrument.quantize_price(price + stop_distance, ROUND_DOWN)
        take = instrument.quantize_price(price - tp_distance, ROUND_UP) if tp_distance else None
    return stop, take


def _num(value: Decimal) -> str:
    """A number as given (20, 2.5), with the page's decimal mark."""
    from django.utils.formats import number_format

    exponent = value.normalize().as_tuple().exponent
    return number_format(value, max(0, -exponent) if isinstance(exponent, int) else 0)


def _pct(fraction: Decimal, places: int = 0) -> str:
    """A fraction as a percentage in the page's language (0.025 -> "2.5%" or "2,5%")."""
    from django.utils.formats import number_format

    return number_format(fraction * 100, places, use_l10n=True) + "%"


def risk_warnings(limits: RiskLimits) -> list[str]:
    """Plain warnings shown before saving settings that take a lot of risk (in the page's
    language: gettext is this module's one Django import, made only here)."""
    from django.utils.translation import gettext as _

    warnings = []
    if limits.risk_per_trade > Decimal("0.02"):
        five_losses = 1 - (1 - limits.risk_per_trade) ** 5
        warnings.append(
            _("Risking %(risk)s per trade is high: five losses in a row lose about %(loss)s.")
            % {"risk": _pct(limits.risk_per_trade, 1), "loss": _pct(five_losses)}
        )
    if limits.max_leverage > 5:
        warnings.append(
            _(
                "Leverage up to %(leverage)sx: a %(move)s move against you can wipe the position out."
            )
            % {"leverage": _num(limits.max_leverage), "move": _pct(1 / limits.max_leverage)}
        )
    if limits.daily_loss_limit > Decimal("0.05"):
        warnings.append(
            _("A daily loss limit of %(limit)s lets a bad day cost a lot before the bot pauses.")
            % {"limit": _pct(limits.daily_loss_limit)}
        )
    if limits.max_drawdown > Decimal("0.25"):
        warnings.append(
            _("A drawdown limit of %(limit)s is loose: the bot keeps trading through deep losses.")
            % {"limit": _pct(limits.max_drawdown)}
        )
    return warnings


def peak_after_flow(peak: Decimal, flow: Decimal, equity_before: Decimal | None) -> Decimal:
    """A drawdown peak moved by a flow, so that the flow itself is never a drawdown.

    A deposit raises the peak by its amount. A withdrawal lowers it in proportion to the share of
    equity withdrawn: the drawdown as a fraction is what it was before, so withdrawing more than
    the drawdown limit can never trip the breaker. (Billing's high-water mark is moved by this
    same function.) With no equity known before the flow, the peak is lowered by the amount.
    """
    if flow >= 0:
        return peak + flow
    withdrawn = -flow
    if equity_before is not None and equity_before > 0:
        share = min(withdrawn / equity_before, Decimal(1))
        return max(peak * (1 - share), Decimal(0))
    return max(peak - withdrawn, Decimal(0))
