"""The exchange itself: accounts, orders, fills, positions and the wallet, in memory, persisted.

Every public method runs on the server's single event loop, so there are no locks: a request or a
clock tick changes the state, then the server flushes the store and pushes the events this left.
Money follows Bybit's linear USDT rules: fees = value x rate, charged from the wallet at each fill;
realised P&L = (exit - entry) x closed qty, credited at each closing fill; cum/curRealisedPnl include
fees, as Bybit shows them.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections import defaultdict, deque
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from exchange.simulator import errors as e
from exchange.simulator import orderbook
from exchange.simulator.clock import SimClock
from exchange.simulator.errors import BybitError
from exchange.simulator.instruments import INSTRUMENTS, MAKER_FEE, TAKER_FEE, Instrument
from exchange.simulator.market_data import MarketData, Segment
from exchange.simulator.matching import SymbolBook
from exchange.simulator.models import (
    ZERO,
    Account,
    ApiKey,
    ClosedPnl,
    Execution,
    Order,
    Position,
    TransactionLog,
)
from exchange.simulator.params import dec, flag, integer, text
from exchange.simulator.store import Store

LINK_ID = re.compile(r"^[0-9A-Za-z_-]{1,36}$")
MAX_ACTIVE_ORDERS = 500
FIRST_UID = 10_000_001


EIGHT = Decimal("0.00000001")


def q8(value: Decimal) -> Decimal:
    """USDT amounts and entry prices are booked at 8 decimals, as Bybit shows them, so every sum
    of booked amounts is exact."""
    return value.quantize(EIGHT, rounding=ROUND_HALF_EVEN)


def _new_id() -> str:
    return str(uuid.uuid4())


class Engine:
    """All accounts and markets of one simulator process."""

    def __init__(self, store: Store, clock: SimClock, market: MarketData) -> None:
        self.store = store
        self.clock = clock
        self.market = market
        self.accounts: dict[int, Account] = {a.uid: a for a in store.load_all("accounts")}
        self.keys: dict[str, ApiKey] = {k.api_key: k for k in store.load_all("api_keys")}
        self.orders: dict[str, Order] = {}
        # Each account's orders in creation order (seq), for history and lookups by id.
        self.orders_by_uid: dict[int, list[Order]] = defaultdict(list)
        self.link_ids: dict[tuple[int, str], str] = {}
        self.open_orders: dict[int, dict[str, Order]] = defaultdict(dict)
        self.books: dict[str, SymbolBook] = {sym: SymbolBook() for sym in INSTRUMENTS}
        self.tpsl: dict[tuple[int, str], dict[str, str]] = defaultdict(dict)
        for o in store.load_all("orders"):
            self._index(o)
        self.positions: dict[tuple[int, str], Position] = {
            (p.uid, p.symbol): p for p in store.load_all("positions")
        }
        self.executions: dict[int, list[Execution]] = defaultdict(list)
        for x in store.load_all("executions"):
            self.executions[x.uid].append(x)
        self.closed_pnl: dict[int, list[ClosedPnl]] = defaultdict(list)
        self.closed_by_order: dict[str, ClosedPnl] = {}
        for c in store.load_all("closed_pnl"):
            self.closed_pnl[c.uid].append(c)
            self.closed_by_order[c.order_id] = c
        self.tx_log: dict[int, list[TransactionLog]] = defaultdict(list)
        for t in store.load_all("tx_log"):
            self.tx_log[t.uid].append(t)
        self.seq = int(store.get_meta("seq") or "1000")
        saved = store.get_meta("processed_to")
        self.processed_to = min(int(saved), clock.now()) if saved else clock.now()
        self.last: dict[str, Decimal] = {
            sym: market.price_at(sym, self.processed_to) for sym in INSTRUMENTS
        }
        self.public_trades: list[tuple[str, int, str, Decimal, Decimal, str]] = []
        self.public_trades_log: deque[tuple[str, int, str, Decimal, Decimal, str]] = deque(
            maxlen=2000
        )
        self._events: dict[int, dict[str, dict[str, Any]]] = {}
        self._wallet_dirty: set[int] = set()

    # --- bookkeeping --------------------------------------------------------------------------
    def _index(self, o: Order, rest: bool = True) -> None:
        if o.order_id not in self.orders:
            self.orders_by_uid[o.uid].append(o)
        self.orders[o.order_id] = o
        if o.order_link_id:
            self.link_ids[(o.uid, o.order_link_id)] = o.order_id
        if o.is_open:
            self.open_orders[o.uid][o.order_id] = o
            if rest and not (o.order_type == "Market" and o.status != "Untriggered"):
                ladder, price = self.books[o.symbol].ladder_for(o)
                ladder.add(price, o)
            if o.stop_order_type in ("TakeProfit", "StopLoss"):
                self.tpsl[(o.uid, o.symbol)][o.stop_order_type] = o.order_id

    def next_seq(self) -> int:
        self.seq += 1
        self.store.set_meta("seq", str(self.seq))
        return self.seq

    def _save_order(self, o: Order) -> None:
        if o.is_open:
            self.open_orders[o.uid][o.order_id] = o
        else:
            self.open_orders[o.uid].pop(o.order_id, None)
        self.store.put("orders", o.order_id, o.uid, o.seq, o)
        self._wallet_dirty.add(o.uid)  # order margin moved: Bybit pushes the wallet too
        self._events.setdefault(o.uid, {}).setdefault("order", {})[o.order_id] = o

    def _save_position(self, p: Position) -> None:
        p.seq = self.next_seq()
        self.store.put("positions", f"{p.uid}:{p.symbol}", p.uid, 0, p)
        self._events.setdefault(p.uid, {}).setdefault("position", {})[p.symbol] = p

    def _save_account(self, a: Account) -> None:
        self.store.put("accounts", str(a.uid), a.uid, a.uid, a)
        self._wallet_dirty.add(a.uid)

    def drain_events(self) -> list[tuple[int, str, list[Any]]]:
        """What changed since the last call, per account, in Bybit's push order.

        Bybit sends order, then execution, then position, then wallet for one trade; each push
        carries every record of its topic that changed.
        """
        out: list[tuple[int, str, list[Any]]] = []
        events, self._events = self._events, {}
        wallets, self._wallet_dirty = self._wallet_dirty, set()
        for uid in sorted(set(events) | wallets):
            topics = events.get(uid, {})
            for topic in ("order", "execution", "position"):
                if topic in topics:
                    out.append((uid, topic, list(topics[topic].values())))
            if uid in wallets:
                out.append((uid, "wallet", [uid]))
        return out

    def flush(self) -> None:
        self.store.set_meta("processed_to", str(self.processed_to))
        self.store.flush()

    # --- accounts -----------------------------------------------------------------------------
    def create_account(
        self, usdt: Decimal, read_only: bool, withdraw: bool
    ) -> tuple[Account, ApiKey]:
        self.store.flush()
        uid = max(max(self.accounts, default=FIRST_UID - 1), self.store.max_uid()) + 1
        now = self.clock.now()
        account = Account(uid=uid, wallet_balance=ZERO, created_ms=now, updated_ms=now)
        self.accounts[uid] = account
        self._save_account(account)
        key = self.create_key(uid, read_only, withdraw)
        if usdt:
            self.deposit(uid, usdt)
        return account, key

    def create_key(self, uid: int, read_only: bool, withdraw: bool, note: str = "") -> ApiKey:
        if uid not in self.accounts:
            raise KeyError(uid)
        alphabet = string.ascii_letters + string.digits
        key = ApiKey(
            api_key="".join(secrets.choice(alphabet) for _ in range(18)),
            secret="".join(secrets.choice(alphabet) for _ in range(36)),
            uid=uid,
            key_id=max((k.key_id for k in self.keys.values()), default=2_000_000) + 1,
            read_only=read_only,
            withdraw=withdraw,
            created_ms=self.clock.server_ms(),
            note=note,
        )
        self.keys[key.api_key] = key
        self.store.put("api_keys", key.api_key, uid, key.key_id, key)
        return key

    def find_key(self, api_key: str) -> ApiKey | None:
        """A key by its public part; keys the ``account`` command wrote meanwhile are picked up."""
        key = self.keys.get(api_key)
        if key is None:
            found = self.store.find_key(api_key)
            if found is None:
                return None
            key, account = found
            self.keys[key.api_key] = key
            self.accounts.setdefault(account.uid, account)
        return key

    def _log(self, uid: int, **fields: Any) -> TransactionLog:
        entry = TransactionLog(uid=uid, record_id=self.next_seq(), **fields)
        self.tx_log[uid].append(entry)
        self.store.put("tx_log", str(entry.record_id), uid, entry.record_id, entry)
        return entry

    def deposit(self, uid: int, amount: Decimal) -> Account:
        """Credit USDT; Bybit's unified log shows it as TRANSFER_IN from the funding wallet."""
        account = self.accounts[uid]
        if amount <= 0:
            raise ValueError("amount must be positive")
        account.wallet_balance += amount
        account.updated_ms = self.clock.now()
        self._save_account(account)
        self._log(uid, **self._transfer_fields("TRANSFER_IN", amount, account.wallet_balance))
        return account

    def withdraw(self, uid: int, amount: Decimal) -> Account:
        """Debit USDT if that much is withdrawable (not used as margin); TRANSFER_OUT in the log."""
        account = self.accounts[uid]
        if amount <= 0:
            raise ValueError("amount must be positive")
        upl, pos_im, order_im, _ = self.margin(uid)
        free = min(account.wallet_balance, account.wallet_balance + upl) - pos_im - order_im
        if amount > free:
            raise ValueError(f"only {free} USDT is withdrawable")
        account.wallet_balance -= amount
        account.updated_ms = self.clock.now()
        self._save_account(account)
        self._log(uid, **self._transfer_fields("TRANSFER_OUT", -amount, account.wallet_balance))
        return account

    def _transfer_fields(self, kind: str, change: Decimal, balance: Decimal) -> dict[str, Any]:
        return {
            "symbol": "",
            "side": "",
            "type": kind,
            "trans_time": self.clock.now(),
            "qty": ZERO,
            "size": ZERO,
            "trade_price": ZERO,
            "fee": ZERO,
            "cash_flow": change,
            "change": change,
            "cash_balance": balance,
            "fee_rate": ZERO,
            "trade_id": "",
            "order_id": "",
            "order_link_id": "",
        }

    def position(self, uid: int, symbol: str) -> Position:
        pos = self.positions.get((uid, symbol))
        if pos is None:
            now = self.clock.now()
            pos = Position(uid=uid, symbol=symbol, created_ms=now, updated_ms=now)
            self.positions[(uid, symbol)] = pos
        return pos

    def margin(self, uid: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(unrealised P&L, position IM, order IM, position MM) of an account at the last price."""
        upl = pos_im = order_im = pos_mm = ZERO
        for sym in INSTRUMENTS:
            p = self.positions.get((uid, sym))
            if p is None or not p.size:
                continue
            value = abs(p.size) * p.avg_price
            upl += (self.last[sym] - p.avg_price) * p.size
            pos_im += value / p.leverage
            pos_mm += value * INSTRUMENTS[sym].maintenance_rate
        for o in self.open_orders.get(uid, {}).values():
            if o.status != "Untriggered" and not o.reduce_only:
                lev = self.position(uid, o.symbol).leverage
                order_im += o.leaves_qty * o.price / lev
        return upl, pos_im, order_im, pos_mm

    def cum_realised(self, uid: int) -> Decimal:
        held = (self.positions.get((uid, sym)) for sym in INSTRUMENTS)
        return sum((p.cum_realised_pnl for p in held if p is not None), ZERO)

    # --- the market clock ---------------------------------------------------------------------
    def advance_to(self, t: int) -> None:
        """Replay the market up to sim time ``t``: fill, trigger and move the last price."""
        if t <= self.processed_to:
            return
        a = self.processed_to
        for sym in INSTRUMENTS:
            for seg in self.market.segments(sym, a, t):
                self._run_segment(sym, seg)
            self.last[sym] = self.market.price_at(sym, t)
        self.processed_to = t

    def _run_segment(self, sym: str, seg: Segment) -> None:
        book = self.books[sym]
        if seg.p1 > seg.p0:
            limits = book.asks.at_or_below(seg.p1)
            triggers = book.rise.at_or_below(seg.p1)
            hits = sorted(limits + triggers, key=lambda h: h[0])
        else:
            limits = book.bids.at_or_above(seg.p1)
            triggers = book.fall.at_or_above(seg.p1)
            hits = sorted(limits + triggers, key=lambda h: h[0], reverse=True)
        for price, order in hits:
            if not order.is_open:
                continue
            t = seg.price_time(price)
            self.last[sym] = price
            if order.status == "Untriggered":
                self._trigger(order, price, t)
            else:
                self._fill_resting(order, price, t)
        self.last[sym] = seg.p1
        size = self.market.histories[sym].instrument.qty_step
        self._public_trade(
            (sym, seg.t1, "Buy" if seg.p1 > seg.p0 else "Sell", size, seg.p1, _new_id())
        )

    def _public_trade(self, trade: tuple[str, int, str, Decimal, Decimal, str]) -> None:
        self.public_trades.append(trade)
        self.public_trades_log.append(trade)

    # --- order entry --------------------------------------------------------------------------
    def place_order(self, uid: int, p: dict[str, Any]) -> Order:
        """Validate and accept an order (Bybit's checks and retCodes), then match what crosses."""
        if text(p, "category") != "linear":
            raise BybitError(e.PARAM_ERROR, "params error: category only support linear")
        inst = self._instrument(p)
        side = text(p, "side")
        if side not in ("Buy", "Sell"):
            raise BybitError(e.PARAM_ERROR, "params error: side invalid")
        order_type = text(p, "orderType")
        if order_type not in ("Market", "Limit"):
            raise BybitError(e.PARAM_ERROR, "params error: orderType invalid")
        link_id = self._link_id(p)
        position_idx = integer(p, "positionIdx", 0)
        if position_idx != 0:
            raise BybitError(e.PARAM_ERROR, "position idx not match position mode")
        qty = dec(p, "qty")
        if qty is None or qty <= 0:
            raise BybitError(e.PARAM_ERROR, "params error: qty invalid")
        tif = text(p, "timeInForce", "GTC" if order_type == "Limit" else "IOC")
        if tif not in ("GTC", "IOC", "FOK", "PostOnly"):
            raise BybitError(e.PARAM_ERROR, "params error: timeInForce invalid")
        if order_type == "Market":
            tif = "IOC"
            price = ZERO
        else:
            lp = dec(p, "price")
            if lp is None:
                raise BybitError(e.PARAM_ERROR, "params error: price is required for limit orders")
            price = lp
            self._check_price(inst, price, "price")
        reduce_only = flag(p, "reduceOnly")
        close_on_trigger = flag(p, "closeOnTrigger")
        self._check_qty(inst, qty, order_type, price)
        tp = dec(p, "takeProfit", ZERO) or ZERO
        sl = dec(p, "stopLoss", ZERO) or ZERO
        for name, value in (("takeProfit", tp), ("stopLoss", sl)):
            if value:
                self._check_price(inst, value, name)
        trigger = dec(p, "triggerPrice", ZERO) or ZERO
        direction = integer(p, "triggerDirection", 0) or 0
        last = self.last[inst.symbol]
        if trigger:
            self._check_price(inst, trigger, "triggerPrice")
            if direction not in (1, 2):
                raise BybitError(e.PARAM_ERROR, "params error: triggerDirection invalid")
            if direction == 1 and trigger <= last:
                raise BybitError(
                    e.TRIGGER_RISING,
                    f"expect Rising, but trigger_price[{trigger}] <= current[{last}]??LastPrice",
                )
            if direction == 2 and trigger >= last:
                raise BybitError(
                    e.TRIGGER_FALLING,
                    f"expect Falling, but trigger_price[{trigger}] >= current[{last}]??LastPrice",
                )
        self._check_tpsl_sides(side, tp, sl, price or last)
        if link_id and (uid, link_id) in self.link_ids:
            raise e.error(e.DUPLICATE_LINK_ID)
        active = [o for o in self.open_orders[uid].values() if o.symbol == inst.symbol]
        if len(active) >= MAX_ACTIVE_ORDERS:
            raise e.error(e.TOO_MANY_ORDERS)
        pos = self.position(uid, inst.symbol)
        if reduce_only:
            qty = self._reduce_only_qty(pos, side, qty)
        else:
            self._check_margin(uid, inst, pos, side, qty, price or self._taker_ref(inst, side))
        now = self.clock.now()
        order = Order(
            order_id=_new_id(),
            order_link_id=link_id,
            uid=uid,
            symbol=inst.symbol,
            side=side,
            order_type=order_type,
            price=price,
            qty=qty,
            time_in_force=tif,
            reduce_only=reduce_only,
            close_on_trigger=close_on_trigger,
            status="New",
            created_ms=now,
            updated_ms=now,
            last_price_on_created=last,
            take_profit=tp,
            stop_loss=sl,
            tp_trigger_by=text(p, "tpTriggerBy", "LastPrice") if tp else "",
            sl_trigger_by=text(p, "slTriggerBy", "LastPrice") if sl else "",
            tpsl_mode="Full" if (tp or sl) else "",
            trigger_price=trigger,
            trigger_direction=direction if trigger else 0,
            trigger_by=text(p, "triggerBy", "LastPrice") if trigger else "",
            stop_order_type="Stop" if trigger else "",
            seq=self.next_seq(),
        )
        if trigger:
            order.status = "Untriggered"
            self._index(order)
            self._save_order(order)
            self._save_position(pos)
            return order
        self._index(order, rest=False)
        self._enter(order, last, now)
        self._save_position(pos)
        return order

    def _enter(self, order: Order, ref: Decimal, now: int) -> None:
        """Match a new (or just triggered) order against the book at price ``ref``."""
        inst = INSTRUMENTS[order.symbol]
        book = self.books[order.symbol]
        if order.order_type == "Market":
            self._unrest(order)
            self._take(order, ref, now, None)
            self._finish_taker(order)
            return
        bid1, ask1 = ref, ref + inst.tick_size
        crosses = order.price >= ask1 if order.side == "Buy" else order.price <= bid1
        if not crosses:
            if order.time_in_force in ("IOC", "FOK"):
                self._unrest(order)
                self._close(order, "Cancelled", "EC_NoImmediateQtyToFill")
            else:
                ladder = book.bids if order.side == "Buy" else book.asks
                ladder.add(order.price, order)
                self._save_order(order)
            return
        self._unrest(order)
        if order.time_in_force == "PostOnly":
            self._close(order, "Cancelled", "EC_PostOnlyWillTakeLiquidity")
            return
        if order.time_in_force == "FOK":
            fills = orderbook.sweep(inst, ref, now, order.side, order.qty, order.price)
            if sum((q for _, q in fills), ZERO) < order.qty:
                self._close(order, "Cancelled", "EC_NoImmediateQtyToFill")
                return
        self._take(order, ref, now, order.price)
        if order.leaves_qty and order.time_in_force == "GTC":
            ladder = book.bids if order.side == "Buy" else book.asks
            ladder.add(order.price, order)
            self._save_order(order)
        else:
            self._finish_taker(order)

    def _finish_taker(self, order: Order) -> None:
        if order.leaves_qty and order.status in ("New", "PartiallyFilled"):
            self._close(order, "Cancelled", "EC_NoImmediateQtyToFill", cancel_type="UNKNOWN")
        else:
            self._save_order(order)

    def _take(self, order: Order, ref: Decimal, now: int, limit: Decimal | None) -> None:
        inst = INSTRUMENTS[order.symbol]
        for px, q in orderbook.sweep(inst, ref, now, order.side, order.leaves_qty, limit):
            if not order.is_open:
                break
            self._execute(order, px, q, maker=False, t=now)
            self._public_trade((order.symbol, now, order.side, q, px, _new_id()))

    def _taker_ref(self, inst: Instrument, side: str) -> Decimal:
        last = self.last[inst.symbol]
        return last + inst.tick_size if side == "Buy" else last

    def _instrument(self, p: dict[str, Any]) -> Instrument:
        inst = INSTRUMENTS.get(text(p, "symbol"))
        if inst is None:
            raise BybitError(e.PARAM_ERROR, "params error: symbol invalid")
        return inst

    @staticmethod
    def _link_id(p: dict[str, Any]) -> str:
        link_id = text(p, "orderLinkId")
        if not link_id:
            return ""
        if len(link_id) > 36:
            raise BybitError(e.PARAM_ERROR, "order link id is longer than 36")
        if not LINK_ID.match(link_id):
            raise BybitError(e.PARAM_ERROR, "params error: orderLinkId invalid")
        return link_id

    @staticmethod
    def _check_price(inst: Instrument, price: Decimal, name: str) -> None:
        if price < inst.min_price or price > inst.max_price:
            raise e.error(e.PRICE_OUT_OF_RANGE)
        if not inst.on_tick(price):
            raise BybitError(
                e.PARAM_ERROR,
                f"params error: {name} must be a multiple of tickSize {inst.tick_size}",
            )

    def _check_qty(self, inst: Instrument, qty: Decimal, order_type: str, price: Decimal) -> None:
        if qty < inst.qty_step:
            raise BybitError(e.REDUCE_ONLY_ZERO, "orderQty will be truncated to zero")
        if not inst.on_step(qty):
            raise BybitError(
                e.PARAM_ERROR, f"params error: qty must be a multiple of qtyStep {inst.qty_step}"
            )
        if qty < inst.min_qty:
            raise BybitError(e.PARAM_ERROR, "The number of contracts exceeds minimum limit allowed")
        top = inst.max_market_qty if order_type == "Market" else inst.max_qty
        if qty > top:
            raise BybitError(
                e.PARAM_ERROR, "The number of contracts exceeds maximum limit allowed: too large"
            )
        value = qty * (price or self.last[inst.symbol])
        if value < inst.min_notional:
            raise e.error(e.NOTIONAL_TOO_LOW)

    @staticmethod
    def _check_tpsl_sides(side: str, tp: Decimal, sl: Decimal, base: Decimal) -> None:
        long = side == "Buy"
        if tp and (tp <= base if long else tp >= base):
            word = "higher" if long else "lower"
            raise BybitError(
                e.PARAM_ERROR,
                f"TakeProfit:{tp} set for {side} position should be {word} than base_price:{base}"
                "??LastPrice",
            )
        if sl and (sl >= base if long else sl <= base):
            word = "lower" if long else "higher"
            raise BybitError(
                e.PARAM_ERROR,
                f"StopLoss:{sl} set for {side} position should be {word} than base_price:{base}"
                "??LastPrice",
            )

    @staticmethod
    def _reduce_only_qty(pos: Position, side: str, qty: Decimal) -> Decimal:
        closing = (pos.size > 0 and side == "Sell") or (pos.size < 0 and side == "Buy")
        if not closing:
            raise BybitError(
                e.REDUCE_ONLY_ZERO, "current position is zero, cannot fix reduce-only order qty"
            )
        return min(qty, abs(pos.size))

    def _check_margin(
        self, uid: int, inst: Instrument, pos: Position, side: str, qty: Decimal, price: Decimal
    ) -> None:
        """Reject (110007) when the opening part of an order needs more than the available balance.

        Needed = opening value / leverage + the taker fee on it; closing quantity needs nothing.
        """
        opposite = (pos.size > 0 and side == "Sell") or (pos.size < 0 and side == "Buy")
        opening = max(qty - abs(pos.size), ZERO) if opposite else qty
        if not opening:
            return
        value = opening * price
        need = value / pos.leverage + value * TAKER_FEE
        account = self.accounts[uid]
        upl, pos_im, order_im, _ = self.margin(uid)
        available = account.wallet_balance + upl - pos_im - order_im
        if need > available:
            raise e.error(e.INSUFFICIENT_AVAILABLE)

    # --- fills --------------------------------------------------------------------------------
    def _fill_resting(self, order: Order, price: Decimal, t: int) -> None:
        pos = self.position(order.uid, order.symbol)
        qty = order.leaves_qty
        if order.reduce_only:
            closing = (pos.size > 0 and order.side == "Sell") or (
                pos.size < 0 and order.side == "Buy"
            )
            if not closing:
                self._unrest(order)
                self._close(order, "Cancelled", "EC_NoError", cancel_type="CancelByReduceOnly")
                return
            qty = min(qty, abs(pos.size))
        self._execute(order, price, qty, maker=True, t=t)
        if not order.leaves_qty or order.reduce_only:
            self._unrest(order)
            if order.leaves_qty:
                order.qty = order.cum_exec_qty
                order.status = "Filled"
                self._save_order(order)

    def _execute(self, o: Order, price: Decimal, qty: Decimal, maker: bool, t: int) -> None:
        """Book one fill: fee, position, realised P&L, wallet, execution, closed P&L and log rows."""
        pos = self.position(o.uid, o.symbol)
        account = self.accounts[o.uid]
        fee_rate = MAKER_FEE if maker else TAKER_FEE
        value = price * qty
        fee = q8(value * fee_rate)
        direction = 1 if pos.size > 0 else -1
        closed = ZERO
        pnl = ZERO
        open_fee_part = ZERO
        entry_price = pos.avg_price
        if pos.size and (pos.size > 0) != (o.side == "Buy"):
            closed = min(qty, abs(pos.size))
            pnl = q8((price - pos.avg_price) * closed * direction)
            open_fee_part = q8(pos.open_fee * closed / abs(pos.size))
            pos.open_fee -= open_fee_part
            pos.size -= closed * direction
        opened = qty - closed
        if opened:
            sign = 1 if o.side == "Buy" else -1
            if not pos.size:
                pos.avg_price = price
                pos.cur_realised_pnl = ZERO
                pos.open_fee = ZERO
            else:
                held = abs(pos.size)
                pos.avg_price = q8((held * pos.avg_price + opened * price) / (held + opened))
            pos.size += opened * sign
            pos.open_fee += q8(fee * opened / qty)
        if not pos.size:
            pos.avg_price = ZERO
            pos.open_fee = ZERO
        realised = pnl - fee
        account.wallet_balance += realised
        account.updated_ms = t
        pos.cum_realised_pnl += realised
        pos.cur_realised_pnl += realised
        pos.updated_ms = t
        o.cum_exec_qty += qty
        o.cum_exec_value += value
        o.cum_exec_fee += fee
        o.updated_ms = t
        o.status = "Filled" if o.cum_exec_qty >= o.qty else "PartiallyFilled"
        exec_id = _new_id()
        execution = Execution(
            exec_id=exec_id,
            uid=o.uid,
            order_id=o.order_id,
            order_link_id=o.order_link_id,
            symbol=o.symbol,
            side=o.side,
            order_type=o.order_type,
            stop_order_type=o.stop_order_type,
            exec_price=price,
            exec_qty=qty,
            exec_value=value,
            exec_fee=fee,
            fee_rate=fee_rate,
            is_maker=maker,
            exec_time=t,
            leaves_qty=o.qty - o.cum_exec_qty,
            order_qty=o.qty,
            order_price=o.price,
            mark_price=price,
            closed_size=closed,
            exec_pnl=pnl,
            seq=self.next_seq(),
            create_type=o.create_type,
        )
        self.executions[o.uid].append(execution)
        self.store.put("executions", exec_id, o.uid, execution.seq, execution)
        self._events.setdefault(o.uid, {}).setdefault("execution", {})[exec_id] = execution
        if closed:
            close_fee = q8(fee * closed / qty)
            net = pnl - close_fee - open_fee_part
            o.closed_pnl += net
            self._record_closed(o, price, closed, entry_price, net, pos, t)
        self._log(
            o.uid,
            symbol=o.symbol,
            side=o.side,
            type="TRADE",
            trans_time=t,
            qty=qty,
            size=pos.size,
            trade_price=price,
            fee=fee,
            cash_flow=pnl,
            change=realised,
            cash_balance=account.wallet_balance,
            fee_rate=fee_rate,
            trade_id=exec_id,
            order_id=o.order_id,
            order_link_id=o.order_link_id,
        )
        self._save_order(o)
        self._save_account(account)
        if not pos.size:
            self._position_closed(pos)
        elif o.take_profit or o.stop_loss:
            self._set_position_tpsl(
                pos, o.take_profit or pos.take_profit, o.stop_loss or pos.stop_loss
            )
        self._save_position(pos)

    def _record_closed(
        self,
        o: Order,
        price: Decimal,
        closed: Decimal,
        entry: Decimal,
        net: Decimal,
        pos: Position,
        t: int,
    ) -> None:
        rec = self.closed_by_order.get(o.order_id)
        if rec is None:
            rec = ClosedPnl(
                uid=o.uid,
                symbol=o.symbol,
                order_id=o.order_id,
                side=o.side,
                qty=o.qty,
                order_price=o.price,
                order_type=o.order_type,
                exec_type="Trade",
                closed_size=ZERO,
                cum_entry_value=ZERO,
                avg_entry_price=ZERO,
                cum_exit_value=ZERO,
                avg_exit_price=ZERO,
                closed_pnl=ZERO,
                fill_count=0,
                leverage=pos.leverage,
                created_ms=t,
                updated_ms=t,
                record_id=self.next_seq(),
            )
            self.closed_by_order[o.order_id] = rec
            self.closed_pnl[o.uid].append(rec)
        rec.closed_size += closed
        rec.cum_entry_value += entry * closed
        rec.cum_exit_value += price * closed
        rec.avg_entry_price = rec.cum_entry_value / rec.closed_size
        rec.avg_exit_price = rec.cum_exit_value / rec.closed_size
        rec.closed_pnl += net
        rec.fill_count += 1
        rec.updated_ms = t
        self.store.put("closed_pnl", o.order_id, o.uid, rec.record_id, rec)

    def _position_closed(self, pos: Position) -> None:
        """A flat position drops its TP/SL and cancels resting reduce-only orders, as Bybit does."""
        self._set_position_tpsl(pos, ZERO, ZERO)
        for o in list(self.open_orders[pos.uid].values()):
            if o.symbol == pos.symbol and o.reduce_only and o.status != "Untriggered":
                self._unrest(o)
                self._close(o, "Cancelled", "EC_NoError", cancel_type="CancelByReduceOnly")

    def _unrest(self, order: Order) -> None:
        ladder, price = self.books[order.symbol].ladder_for(order)
        ladder.remove(price, order.order_id)

    def _close(self, order: Order, status: str, reason: str, cancel_type: str = "UNKNOWN") -> None:
        order.status = status
        order.reject_reason = reason
        order.cancel_type = cancel_type
        order.updated_ms = self.clock.now()
        self.open_orders[order.uid].pop(order.order_id, None)
        slot = self.tpsl.get((order.uid, order.symbol), {})
        if slot.get(order.stop_order_type) == order.order_id:
            del slot[order.stop_order_type]
        self._save_order(order)

    # --- conditional orders and position TP/SL ------------------------------------------------
    def _trigger(self, order: Order, price: Decimal, t: int) -> None:
        self._unrest(order)
        if order.stop_order_type in ("TakeProfit", "StopLoss"):
            pos = self.position(order.uid, order.symbol)
            slot = self.tpsl[(order.uid, order.symbol)]
            slot.pop(order.stop_order_type, None)
            if not pos.size:
                self._close(order, "Deactivated", "EC_NoError", cancel_type="UNKNOWN")
                return
            order.qty = abs(pos.size)
            order.side = "Sell" if pos.size > 0 else "Buy"
            if order.stop_order_type == "TakeProfit":
                pos.take_profit = ZERO
            else:
                pos.stop_loss = ZERO
        order.status = "Triggered"
        order.updated_ms = t
        self._save_order(order)
        order.status = "New"
        self._enter(order, price, t)

    def _set_position_tpsl(self, pos: Position, tp: Decimal, sl: Decimal) -> None:
        """Keep the Untriggered TakeProfit/StopLoss orders in step with the position (Full mode)."""
        slot = self.tpsl[(pos.uid, pos.symbol)]
        long = pos.size > 0
        for kind, value in (("TakeProfit", tp), ("StopLoss", sl)):
            existing = self.orders.get(slot.get(kind, ""))
            if existing is not None and existing.is_open:
                self._unrest(existing)
                if not value or not pos.size:
                    self._close(existing, "Deactivated", "EC_NoError")
                    continue
                existing.trigger_price = value
                existing.qty = abs(pos.size)
                existing.side = "Sell" if long else "Buy"
                existing.trigger_direction = self._tpsl_direction(kind, long)
                existing.updated_ms = self.clock.now()
                self.books[pos.symbol].ladder_for(existing)[0].add(value, existing)
                self._save_order(existing)
            elif value and pos.size:
                now = self.clock.now()
                order = Order(
                    order_id=_new_id(),
                    order_link_id="",
                    uid=pos.uid,
                    symbol=pos.symbol,
                    side="Sell" if long else "Buy",
                    order_type="Market",
                    price=ZERO,
                    qty=abs(pos.size),
                    time_in_force="IOC",
                    reduce_only=True,
                    close_on_trigger=True,
                    status="Untriggered",
                    created_ms=now,
                    updated_ms=now,
                    last_price_on_created=self.last[pos.symbol],
                    trigger_price=value,
                    trigger_direction=self._tpsl_direction(kind, long),
                    trigger_by="LastPrice",
                    stop_order_type=kind,
                    tpsl_mode="Full",
                    create_type="CreateByTakeProfit"
                    if kind == "TakeProfit"
                    else "CreateByStopLoss",
                    seq=self.next_seq(),
                )
                self._index(order)
                self._save_order(order)
        pos.take_profit = tp if pos.size else ZERO
        pos.stop_loss = sl if pos.size else ZERO

    @staticmethod
    def _tpsl_direction(kind: str, long: bool) -> int:
        rises = (kind == "TakeProfit") == long
        return 1 if rises else 2

    # --- amend, cancel, leverage, trading-stop ------------------------------------------------
    def find_order(self, uid: int, p: dict[str, Any]) -> Order:
        """By orderId first, else orderLinkId (Bybit's priority); 110001 when unknown."""
        order_id = text(p, "orderId")
        link_id = text(p, "orderLinkId")
        if not order_id and not link_id:
            raise BybitError(e.PARAM_ERROR, "params error: orderId or orderLinkId is required")
        if not order_id:
            order_id = self.link_ids.get((uid, link_id), "")
        order = self.orders.get(order_id)
        if order is None or order.uid != uid:
            raise e.error(e.ORDER_NOT_EXISTS)
        if text(p, "symbol") and text(p, "symbol") != order.symbol:
            raise e.error(e.ORDER_NOT_EXISTS)
        return order

    def cancel_order(self, uid: int, p: dict[str, Any]) -> Order:
        self._instrument(p)
        order = self.find_order(uid, p)
        if not order.is_open or order.stop_order_type in ("TakeProfit", "StopLoss"):
            raise e.error(e.ORDER_NOT_EXISTS)
        self._unrest(order)
        self._close(order, "Cancelled", "EC_PerCancelRequest", cancel_type="CancelByUser")
        self._save_position(self.position(uid, order.symbol))
        return order

    def cancel_all(self, uid: int, p: dict[str, Any]) -> list[Order]:
        symbol = text(p, "symbol")
        if symbol and symbol not in INSTRUMENTS:
            raise BybitError(e.PARAM_ERROR, "params error: symbol invalid")
        base = text(p, "baseCoin")
        settle = text(p, "settleCoin")
        if not symbol and not base and not settle:
            raise BybitError(
                e.PARAM_ERROR, "params error: symbol or baseCoin or settleCoin required"
            )
        if settle and settle != "USDT":
            return []
        done = []
        for o in sorted(self.open_orders[uid].values(), key=lambda o: o.seq):
            if o.stop_order_type in ("TakeProfit", "StopLoss"):
                continue
            if symbol and o.symbol != symbol:
                continue
            if base and INSTRUMENTS[o.symbol].base_coin != base:
                continue
            self._unrest(o)
            self._close(o, "Cancelled", "EC_PerCancelRequest", cancel_type="CancelByUser")
            done.append(o)
        for sym in {o.symbol for o in done}:
            self._save_position(self.position(uid, sym))
        return done

    def amend_order(self, uid: int, p: dict[str, Any]) -> Order:
        inst = self._instrument(p)
        order = self.find_order(uid, p)
        if not order.is_open or order.stop_order_type in ("TakeProfit", "StopLoss"):
            raise e.error(e.ORDER_NOT_EXISTS)
        qty = dec(p, "qty")
        price = dec(p, "price")
        trigger = dec(p, "triggerPrice")
        tp = dec(p, "takeProfit")
        sl = dec(p, "stopLoss")
        if order.order_type == "Market":
            price = None
        changed = False
        if qty is not None and qty != order.qty:
            self._check_qty(inst, qty, order.order_type, price or order.price)
            if qty <= order.cum_exec_qty:
                raise BybitError(
                    110064,
                    "The modified contract quantity cannot be less than or equal to the "
                    "filled quantity.",
                )
            changed = True
        if price is not None and price != order.price:
            self._check_price(inst, price, "price")
            changed = True
        if trigger is not None and order.status == "Untriggered" and trigger != order.trigger_price:
            self._check_price(inst, trigger, "triggerPrice")
            changed = True
        if tp is not None and tp != order.take_profit:
            changed = True
        if sl is not None and sl != order.stop_loss:
            changed = True
        if not changed:
            raise BybitError(
                e.PARAM_ERROR,
                "The order remains unchanged as the parameters entered match the existing ones.",
            )
        self._unrest(order)
        if qty is not None:
            order.qty = qty
        if price is not None:
            order.price = price
        if trigger is not None and order.status == "Untriggered":
            order.trigger_price = trigger
        if tp is not None:
            order.take_profit = tp
        if sl is not None:
            order.stop_loss = sl
        order.tpsl_mode = "Full" if (order.take_profit or order.stop_loss) else ""
        order.updated_ms = self.clock.now()
        if order.status == "Untriggered":
            self.books[order.symbol].ladder_for(order)[0].add(order.trigger_price, order)
            self._save_order(order)
        else:
            self._enter(order, self.last[order.symbol], self.clock.now())
        self._save_position(self.position(uid, order.symbol))
        return order

    def set_leverage(self, uid: int, p: dict[str, Any]) -> None:
        inst = self._instrument(p)
        buy = dec(p, "buyLeverage")
        sell = dec(p, "sellLeverage")
        if buy is None or sell is None or buy != sell:
            raise BybitError(e.PARAM_ERROR, "buy leverage must equal sell leverage in one-way mode")
        if not Decimal(1) <= buy <= inst.max_leverage or buy % Decimal("0.01"):
            raise BybitError(
                e.PARAM_ERROR, f"leverage invalid, must be in [1, {inst.max_leverage}]"
            )
        pos = self.position(uid, inst.symbol)
        if buy == pos.leverage:
            raise e.error(e.LEVERAGE_NOT_MODIFIED)
        pos.leverage = buy.normalize() if buy == buy.to_integral_value() else buy
        if pos.leverage == pos.leverage.to_integral_value():
            pos.leverage = pos.leverage.quantize(Decimal(1))
        pos.updated_ms = self.clock.now()
        self._save_position(pos)
        self._wallet_dirty.add(uid)

    def trading_stop(self, uid: int, p: dict[str, Any]) -> None:
        inst = self._instrument(p)
        if (integer(p, "positionIdx", 0) or 0) != 0:
            raise BybitError(e.PARAM_ERROR, "position idx not match position mode")
        pos = self.position(uid, inst.symbol)
        if not pos.size:
            raise BybitError(e.PARAM_ERROR, "can not set tp/sl/ts for zero position")
        tp = dec(p, "takeProfit")
        sl = dec(p, "stopLoss")
        new_tp = pos.take_profit if tp is None else tp
        new_sl = pos.stop_loss if sl is None else sl
        for name, value in (("takeProfit", new_tp), ("stopLoss", new_sl)):
            if value:
                self._check_price(inst, value, name)
        self._check_tpsl_sides(pos.side, new_tp, new_sl, self.last[inst.symbol])
        self._set_position_tpsl(pos, new_tp, new_sl)
        pos.updated_ms = self.clock.now()
        self._save_position(pos)

    def switch_mode(self, uid: int, p: dict[str, Any]) -> None:
        mode = integer(p, "mode")
        if mode == 0:
            raise e.error(e.POSITION_MODE_NOT_MODIFIED)
        raise BybitError(e.PARAM_ERROR, "params error: the simulator trades in one-way mode only")
