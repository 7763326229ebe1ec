"""The gateway's inputs and results: frozen dataclasses, ``Decimal`` money, aware UTC datetimes.

Nothing here knows about pybit or Django; parsing Bybit's JSON into these lives in ``bybit_client``.
Field names follow the project's Python style; the docstrings name Bybit's field where it differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from tradingsvc.lib.phrases import Phrase

T = TypeVar("T")


class Environment(StrEnum):
    """Mirrors ``ExchangeEnvironment`` (kept Django-free here)."""

    MAINNET = "mainnet"
    TESTNET = "testnet"
    DEMO = "demo"
    SIMULATOR = "simulator"


def interval_delta(interval: str) -> timedelta | None:
    """The length of a kline interval ("1".."720" minutes, "D", "W"); None for months (not fixed)."""
    if interval.isdigit():
        return timedelta(minutes=int(interval))
    return {"D": timedelta(days=1), "W": timedelta(days=7)}.get(interval)


def ms_to_dt(ms: int | str | None) -> datetime | None:
    """Bybit's millisecond timestamps as aware UTC datetimes (None for empty/zero)."""
    if ms in (None, "", "0", 0):
        return None
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def dt_to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not accepted; use an aware UTC datetime")
    return int(value.timestamp() * 1000)


def dec(value: Any) -> Decimal:
    """A Bybit number string as Decimal; '' is zero."""
    if value in (None, ""):
        return Decimal(0)
    return Decimal(str(value))


@dataclass(frozen=True)
class ApiKeyInfo:
    """``/v5/user/query-api``: what the key may do. ``permissions`` uses Bybit's names."""

    uid: str
    api_key_last4: str
    read_only: bool
    permissions: dict[str, list[str]]
    can_withdraw: bool
    can_trade_derivatives: bool
    expires_at: datetime | None
    ips: list[str]
    note: str = ""
    unified: bool = True


@dataclass(frozen=True)
class CoinBalance:
    coin: str
    equity: Decimal
    wallet_balance: Decimal
    available_to_withdraw: Decimal
    unrealised_pnl: Decimal
    usd_value: Decimal


@dataclass(frozen=True)
class WalletBalance:
    """``/v5/account/wallet-balance?accountType=UNIFIED`` (USD totals of the unified account)."""

    total_equity: Decimal
    total_wallet_balance: Decimal
    total_available_balance: Decimal
    total_margin_balance: Decimal
    total_initial_margin: Decimal
    coins: dict[str, CoinBalance]

    @property
    def equity(self) -> Decimal:
        return self.total_equity

    @property
    def available(self) -> Decimal:
        return self.total_available_balance


@dataclass(frozen=True)
class Instrument:
    """Trading rules of one linear contract (``priceFilter``, ``lotSizeFilter``, ``leverageFilter``)."""

    symbol: str
    status: str
    base_coin: str
    quote_coin: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_market_qty: Decimal
    min_notional: Decimal
    min_leverage: Decimal
    max_leverage: Decimal
    leverage_step: Decimal

    def quantize_price(self, price: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
        """Round a price to the tick (down by default; pass ROUND_UP for a sell's worst price)."""
        ticks = (price / self.tick_size).to_integral_value(rounding=rounding)
        return (ticks * self.tick_size).quantize(self.tick_size)

    def quantize_qty(self, qty: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
        """Round a quantity down to the lot step (never up: that would exceed the risk asked for)."""
        steps = (qty / self.qty_step).to_integral_value(rounding=rounding)
        return (steps * self.qty_step).quantize(self.qty_step)

    def qty_problem(self, qty: Decimal, price: Decimal, market: bool = False) -> str | None:
        """Why Bybit would refuse this quantity, in words, or None when it is acceptable."""
        if qty != self.quantize_qty(qty):
            return Phrase(
                "qty.not_step",
                "quantity %(qty)s is not a multiple of the lot step %(step)s",
                qty=qty,
                step=self.qty_step,
            )
        if qty < self.min_qty:
            return Phrase(
                "qty.below_min",
                "quantity %(qty)s is below the minimum %(min)s",
                qty=qty,
                min=self.min_qty,
            )
        top = self.max_market_qty if market else self.max_qty
        if qty > top:
            return Phrase(
                "qty.above_max", "quantity %(qty)s is above the maximum %(max)s", qty=qty, max=top
            )
        if qty * price < self.min_notional:
            return Phrase(
                "qty.below_notional",
                "order value %(value)s is below the minimum %(min)s",
                value=qty * price,
                min=self.min_notional,
            )
        return None


@dataclass(frozen=True)
class Kline:
    symbol: str
    interval: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last_price: Decimal
    mark_price: Decimal
    index_price: Decimal
    bid1_price: Decimal
    ask1_price: Decimal
    volume_24h: Decimal
    funding_rate: Decimal


@dataclass(frozen=True)
class OrderRequest:
    """A new order. ``order_link_id`` is mandatory: it is how an unknown outcome gets resolved."""

    symbol: str
    side: str  # "Buy" | "Sell"
    order_type: str  # "Limit" | "Market"
    qty: Decimal
    order_link_id: str
    price: Decimal | None = None
    time_in_force: str | None = None  # GTC, IOC, FOK, PostOnly
    reduce_only: bool = False
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_direction: int | None = None
    category: str = "linear"


@dataclass(frozen=True)
class OrderAck:
    """The create/amend/cancel acknowledgement; the order's state comes from streams or queries."""

    order_id: str
    order_link_id: str


@dataclass(frozen=True)
class Order:
    order_id: str
    order_link_id: str
    symbol: str
    side: str
    order_type: str
    status: str
    price: Decimal
    qty: Decimal
    cum_exec_qty: Decimal
    cum_exec_value: Decimal
    cum_exec_fee: Decimal
    avg_price: Decimal
    leaves_qty: Decimal
    time_in_force: str
    reduce_only: bool
    reject_reason: str
    created_at: datetime | None
    updated_at: datetime | None
    stop_order_type: str = ""  # "TakeProfit", "StopLoss", ... for conditional orders; "" otherwise

    @property
    def is_open(self) -> bool:
        return self.status in ("New", "PartiallyFilled", "Untriggered", "Created", "Active")


@dataclass(frozen=True)
class Execution:
    """One fill. ``exec_id`` is unique per account and is the idempotency key of storage."""

    exec_id: str
    order_id: str
    order_link_id: str
    symbol: str
    side: str
    exec_price: Decimal
    exec_qty: Decimal
    exec_value: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    exec_type: str
    is_maker: bool
    closed_size: Decimal
    exec_time: datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a cursor-paged list; pass ``next_cursor`` back to get the following one."""

    items: list[T]
    next_cursor: str


@dataclass(frozen=True)
class Position:
    symbol: str
    side: str  # "Buy", "Sell" or "" when flat
    size: Decimal
    avg_price: Decimal
    mark_price: Decimal
    leverage: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal
    liq_price: Decimal
    take_profit: Decimal
    stop_loss: Decimal
    updated_at: datetime | None


@dataclass(frozen=True)
class ClosedPnl:
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    avg_entry_price: Decimal
    avg_exit_price: Decimal
    closed_pnl: Decimal
    created_at: datetime | None


@dataclass(frozen=True)
class TransactionLogEntry:
    id: str
    symbol: str
    type: str
    side: str
    qty: Decimal
    trade_price: Decimal
    fee: Decimal
    cash_flow: Decimal
    change: Decimal
    cash_balance: Decimal
    order_id: str
    order_link_id: str
    trade_id: str
    transaction_time: datetime | None
