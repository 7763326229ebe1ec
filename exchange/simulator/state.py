"""The exchange's records in memory: loading them, persisting and announcing changes, accounts
and the margin view. ``Ledger`` and ``Engine`` build on it."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections import defaultdict, deque
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from exchange.simulator.clock import SimClock
from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.market_data import MarketData
from exchange.simulator.matching import SymbolBook
from exchange.simulator.records import (
    ZERO,
    Account,
    ApiKey,
    ClosedPnl,
    Execution,
    Order,
    Position,
    TransactionLog,
)
from exchange.simulator.store import Store

LINK_ID = re.compile(r"^[0-9A-Za-z_-]{1,36}$")
MAX_ACTIVE_ORDERS = 500
FIRST_UID = 10_000_001


EIGHT = Decimal("0.00000001")


def q8(value: Decimal) -> Decimal:
    """USDT amounts and entry prices are booked at 8 decimals, as Bybit shows them, so every sum
    of booked amounts is exact."""
    return value.quantize(EIGHT, rounding=ROUND_HALF_EVEN)


def new_id() -> str:
    return str(uuid.uuid4())


class State:
    """Every account, key, order, position and record of one simulator process."""

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
        # Accounts holding each symbol, and their liquidation prices until the account changes.
        self.holders: dict[str, set[int]] = {sym: set() for sym in INSTRUMENTS}
        for (uid, sym), pos in self.positions.items():
            if pos.size:
                self.holders[sym].add(uid)
        self._liq_cache: dict[int, dict[str, Decimal | None]] = {}

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
        holders = self.holders.setdefault(p.symbol, set())
        if p.size:
            holders.add(p.uid)
        else:
            holders.discard(p.uid)
        self._liq_cache.pop(p.uid, None)
        self.store.put("positions", f"{p.uid}:{p.symbol}", p.uid, 0, p)
        self._events.setdefault(p.uid, {}).setdefault("position", {})[p.symbol] = p

    def _save_account(self, a: Account) -> None:
        self.store.put("accounts", str(a.uid), a.uid, a.uid, a)
        self._liq_cache.pop(a.uid, None)
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

    def update_key(self, api_key: str, **changes: bool) -> ApiKey:
        """Change a key's permissions after it was made (``read_only``, ``withdraw``), as a client
        can on Bybit's key page: the service's daily check must notice."""
        key = self.find_key(api_key)
        if key is None:
            raise KeyError(api_key)
        for name, value in changes.items():
            setattr(key, name, value)
        self.store.put("api_keys", key.api_key, key.uid, key.key_id, key)
        return key

    def revoke_key(self, api_key: str) -> None:
        """Delete a key, as on Bybit: every later call with it is refused (10003)."""
        if self.find_key(api_key) is None:
            raise KeyError(api_key)
        self.store.flush()
        self.store.delete("api_keys", api_key)
        self.keys.pop(api_key, None)

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
        """(unrealised P&L, position IM, order IM, position MM) of an account at the last price.

        A cross position's IM is value / leverage; an isolated one's is the margin set aside for it.
        """
        upl = pos_im = order_im = pos_mm = ZERO
        for sym in INSTRUMENTS:
            p = self.positions.get((uid, sym))
            if p is None or not p.size:
                continue
            value = abs(p.size) * p.avg_price
            upl += (self.last[sym] - p.avg_price) * p.size
            pos_im += p.position_margin if p.isolated else value / p.leverage
            pos_mm += value * INSTRUMENTS[sym].maintenance_rate
        for o in self.open_orders.get(uid, {}).values():
            if o.status != "Untriggered" and not o.reduce_only:
                lev = self.position(uid, o.symbol).leverage
                order_im += o.leaves_qty * o.price / lev
        return upl, pos_im, order_im, pos_mm

    def liq_price(self, uid: int, symbol: str) -> Decimal | None:
        """Where this position's price makes its margin fall to its maintenance margin.

        Isolated: the position alone, ``margin + (p - entry) x size = MM``. Cross: the account's one
        pot (wallet less the margin set aside for isolated positions, plus the other cross
        positions' UPL at their last price), ``pot + (p - entry) x size = MM of every cross
        position``. MM is entry value x 0.5 %. None when unreachable.
        """
        cached = self._liq_cache.get(uid, {})
        if symbol in cached:
            return cached[symbol]
        pos = self.positions.get((uid, symbol))
        result: Decimal | None = None
        if pos is not None and pos.size:
            if pos.isolated:
                mm = abs(pos.size) * pos.avg_price * INSTRUMENTS[symbol].maintenance_rate
                room = pos.position_margin - mm
            else:
                upl_other = mm = ZERO
                set_aside = ZERO
                for sym in INSTRUMENTS:
                    held = self.positions.get((uid, sym))
                    if held is None or not held.size:
                        continue
                    if held.isolated:
                        set_aside += held.position_margin
                        continue
                    mm += abs(held.size) * held.avg_price * INSTRUMENTS[sym].maintenance_rate
                    if sym != symbol:
                        upl_other += (self.last[sym] - held.avg_price) * held.size
                room = self.accounts[uid].wallet_balance - set_aside + upl_other - mm
            price = pos.avg_price - room / pos.size
            if price > 0:
                result = INSTRUMENTS[symbol].round_price(price)
        self._liq_cache.setdefault(uid, {})[symbol] = result
        return result

    def cum_realised(self, uid: int) -> Decimal:
        held = (self.positions.get((uid, sym)) for sym in INSTRUMENTS)
        return sum((p.cum_realised_pnl for p in held if p is not None), ZERO)

    def _public_trade(self, trade: tuple[str, int, str, Decimal, Decimal, str]) -> None:
        self.public_trades.append(trade)
        self.public_trades_log.append(trade)

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
