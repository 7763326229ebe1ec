"""The simulator's records. Money and quantities are Decimal; times are sim-time ms."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

ZERO = Decimal(0)
T = TypeVar("T")


@dataclass
class Account:
    """A unified trading account holding USDT."""

    uid: int
    wallet_balance: Decimal
    created_ms: int
    updated_ms: int
    # Bybit's account-level setting (``/v5/account/set-margin-mode``); a position takes the mode in
    # force when it opens from flat and keeps it until it is flat again.
    margin_mode: str = "REGULAR_MARGIN"


@dataclass
class ApiKey:
    """An HMAC key; ``read_only`` and ``withdraw`` map onto Bybit's readOnly and Wallet permissions."""

    api_key: str
    secret: str
    uid: int
    key_id: int
    read_only: bool
    withdraw: bool
    created_ms: int
    note: str = ""


@dataclass
class Order:
    """An order, conditional or not. TP/SL of a position are ``Untriggered`` orders too, as on Bybit."""

    order_id: str
    order_link_id: str
    uid: int
    symbol: str
    side: str
    order_type: str
    price: Decimal
    qty: Decimal
    time_in_force: str
    reduce_only: bool
    close_on_trigger: bool
    status: str
    created_ms: int
    updated_ms: int
    last_price_on_created: Decimal
    cum_exec_qty: Decimal = ZERO
    cum_exec_value: Decimal = ZERO
    cum_exec_fee: Decimal = ZERO
    closed_pnl: Decimal = ZERO
    take_profit: Decimal = ZERO
    stop_loss: Decimal = ZERO
    tp_trigger_by: str = ""
    sl_trigger_by: str = ""
    trigger_price: Decimal = ZERO
    trigger_direction: int = 0
    trigger_by: str = ""
    stop_order_type: str = ""
    tpsl_mode: str = ""
    create_type: str = "CreateByUser"
    cancel_type: str = "UNKNOWN"
    reject_reason: str = "EC_NoError"
    seq: int = 0

    @property
    def leaves_qty(self) -> Decimal:
        if self.status in ("Filled", "Cancelled", "Rejected", "Deactivated"):
            return ZERO
        return self.qty - self.cum_exec_qty

    @property
    def avg_price(self) -> Decimal:
        return self.cum_exec_value / self.cum_exec_qty if self.cum_exec_qty else ZERO

    @property
    def is_open(self) -> bool:
        return self.status in ("New", "PartiallyFilled", "Untriggered")


@dataclass
class Execution:
    """One fill."""

    exec_id: str
    uid: int
    order_id: str
    order_link_id: str
    symbol: str
    side: str
    order_type: str
    stop_order_type: str
    exec_price: Decimal
    exec_qty: Decimal
    exec_value: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    is_maker: bool
    exec_time: int
    leaves_qty: Decimal
    order_qty: Decimal
    order_price: Decimal
    mark_price: Decimal
    closed_size: Decimal
    exec_pnl: Decimal
    seq: int
    create_type: str
    exec_type: str = "Trade"


@dataclass
class Position:
    """A one-way position; ``size`` is signed (long > 0)."""

    uid: int
    symbol: str
    size: Decimal = ZERO
    avg_price: Decimal = ZERO
    leverage: Decimal = Decimal(10)
    take_profit: Decimal = ZERO
    stop_loss: Decimal = ZERO
    tp_trigger_by: str = "LastPrice"
    sl_trigger_by: str = "LastPrice"
    cum_realised_pnl: Decimal = ZERO
    cur_realised_pnl: Decimal = ZERO
    open_fee: Decimal = ZERO
    created_ms: int = 0
    updated_ms: int = 0
    seq: int = 0
    # Bybit's tradeMode: 0 cross (the account's pot), 1 isolated (its own margin and liquidation).
    trade_mode: int = 0
    # Isolated only: the margin set aside for this position (Bybit's positionIM/positionBalance).
    position_margin: Decimal = ZERO
    auto_add_margin: int = 0

    @property
    def isolated(self) -> bool:
        return self.trade_mode == 1 and self.size != 0

    @property
    def side(self) -> str:
        return "Buy" if self.size > 0 else "Sell" if self.size < 0 else ""


@dataclass
class ClosedPnl:
    """One closing order's realised result, as /v5/position/closed-pnl lists it."""

    uid: int
    symbol: str
    order_id: str
    side: str
    qty: Decimal
    order_price: Decimal
    order_type: str
    exec_type: str
    closed_size: Decimal
    cum_entry_value: Decimal
    avg_entry_price: Decimal
    cum_exit_value: Decimal
    avg_exit_price: Decimal
    closed_pnl: Decimal
    fill_count: int
    leverage: Decimal
    created_ms: int
    updated_ms: int
    record_id: int = 0


@dataclass
class TransactionLog:
    """One row of /v5/account/transaction-log: deposits, withdrawals, trades with their fees and
    funding settlements (``funding``: positive when received, negative when paid, as Bybit)."""

    uid: int
    record_id: int
    symbol: str
    side: str
    type: str
    trans_time: int
    qty: Decimal
    size: Decimal
    trade_price: Decimal
    fee: Decimal
    cash_flow: Decimal
    change: Decimal
    cash_balance: Decimal
    fee_rate: Decimal
    trade_id: str
    order_id: str
    order_link_id: str
    trans_sub_type: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    funding: Decimal = ZERO


def dump(obj: Any) -> str:
    """Serialise a record for SQLite; Decimals as strings so nothing is rounded through floats."""
    # vars() rather than dataclasses.asdict: records are flat, and asdict deep-copies every field.
    return json.dumps(vars(obj), default=str, separators=(",", ":"))


def load(cls: type[T], text: str) -> T:
    """Inverse of :func:`dump`."""
    raw: dict[str, Any] = json.loads(text)
    kinds = {f.name: f.type for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for name, kind in kinds.items():
        if kind == "Decimal" and name in raw:
            raw[name] = Decimal(raw[name])
    return cls(**raw)
