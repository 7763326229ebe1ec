"""Matching an order against the synthetic book and booking its fills: fees, positions,
realised P&L, the wallet, closed P&L and the transaction log; position TP/SL orders.

Money follows Bybit's linear USDT rules: fees = value x rate, charged from the wallet at each fill;
realised P&L = (exit - entry) x closed qty, credited at each closing fill; cum/curRealisedPnl include
fees, as Bybit shows them. Amounts are booked at 8 decimals.
"""

from __future__ import annotations

from decimal import Decimal

from exchange.simulator import orderbook
from exchange.simulator.instruments import INSTRUMENTS, MAKER_FEE, TAKER_FEE, Instrument
from exchange.simulator.records import (
    ZERO,
    ClosedPnl,
    Execution,
    Order,
    Position,
)
from exchange.simulator.state import State, new_id, q8


class Ledger(State):
    """Fills and their consequences; no request parsing here."""

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
            self._public_trade((order.symbol, now, order.side, q, px, new_id()))

    def _taker_ref(self, inst: Instrument, side: str) -> Decimal:
        last = self.last[inst.symbol]
        return last + inst.tick_size if side == "Buy" else last

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

    def _execute(
        self, o: Order, price: Decimal, qty: Decimal, maker: bool, t: int, exec_type: str = "Trade"
    ) -> None:
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
            if pos.trade_mode == 1:  # the closed share of an isolated position's margin is freed
                pos.position_margin -= q8(pos.position_margin * closed / abs(pos.size))
            pos.size -= closed * direction
        opened = qty - closed
        if opened:
            sign = 1 if o.side == "Buy" else -1
            if not pos.size:
                pos.avg_price = price
                pos.cur_realised_pnl = ZERO
                pos.open_fee = ZERO
                pos.trade_mode = 1 if account.margin_mode == "ISOLATED_MARGIN" else 0
                pos.position_margin = ZERO
            else:
                held = abs(pos.size)
                pos.avg_price = q8((held * pos.avg_price + opened * price) / (held + opened))
            pos.size += opened * sign
            pos.open_fee += q8(fee * opened / qty)
            if pos.trade_mode == 1:
                pos.position_margin += q8(opened * price / pos.leverage)
        if not pos.size:
            pos.avg_price = ZERO
            pos.open_fee = ZERO
            pos.position_margin = ZERO
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
        exec_id = new_id()
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
            exec_type=exec_type,
        )
        self.executions[o.uid].append(execution)
        self.store.put("executions", exec_id, o.uid, execution.seq, execution)
        self._events.setdefault(o.uid, {}).setdefault("execution", {})[exec_id] = execution
        if closed:
            close_fee = q8(fee * closed / qty)
            net = pnl - close_fee - open_fee_part
            o.closed_pnl += net
            self._record_closed(o, price, closed, entry_price, net, pos, t, exec_type)
        self._log(
            o.uid,
            symbol=o.symbol,
            side=o.side,
            type="LIQUIDATION" if exec_type == "BustTrade" else "TRADE",
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
        exec_type: str = "Trade",
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
                exec_type=exec_type,
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
                    order_id=new_id(),
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
