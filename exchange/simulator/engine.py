"""The exchange's operations: replaying the clock, order entry with Bybit's checks, amend,
cancel, leverage, trading-stop. Records live in state.py, fills are booked in ledger.py.

Every public method runs on the server's single event loop, so there are no locks: a request or a
clock tick changes the state, then the server flushes the store and pushes the events this left.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.simulator import errors as e
from exchange.simulator.errors import BybitError
from exchange.simulator.funding import funding_rate, next_funding_time
from exchange.simulator.instruments import INSTRUMENTS, TAKER_FEE, Instrument
from exchange.simulator.ledger import Ledger
from exchange.simulator.market_data import Segment
from exchange.simulator.params import dec, flag, integer, text
from exchange.simulator.records import ZERO, Execution, Order, Position
from exchange.simulator.state import LINK_ID, MAX_ACTIVE_ORDERS, new_id, q8


class Engine(Ledger):
    """All accounts and markets of one simulator process: the operations the API calls."""

    # --- the market clock ---------------------------------------------------------------------
    def advance_to(self, t: int) -> None:
        """Replay the market up to sim time ``t``: fill, trigger, move the last price, and settle
        funding at every funding time passed (after the market got there, before it goes on)."""
        while self.processed_to < t:
            a = self.processed_to
            settle_at = next_funding_time(a)
            b = min(t, settle_at)
            self._replay(a, b)
            if b == settle_at:
                self._settle_funding(b)

    def _replay(self, a: int, b: int) -> None:
        self._liq_cache.clear()  # other symbols' prices moved since they were computed
        for sym in INSTRUMENTS:
            for seg in self.market.segments(sym, a, b):
                self._run_segment(sym, seg)
            self.last[sym] = self.market.price_at(sym, b)
        self.processed_to = b

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
        self._check_liquidations(sym, seg)
        size = self.market.histories[sym].instrument.qty_step
        self._public_trade(
            (sym, seg.t1, "Buy" if seg.p1 > seg.p0 else "Sell", size, seg.p1, new_id())
        )

    def _check_liquidations(self, sym: str, seg: Segment) -> None:
        """Liquidate accounts whose liquidation price this leg reached (checked at its end)."""
        falling = seg.p1 < seg.p0
        for uid in list(self.holders.get(sym, ())):
            pos = self.positions[(uid, sym)]
            if (pos.size > 0) != falling:
                continue
            liq = self.liq_price(uid, sym)
            if liq is None or (falling and seg.p1 > liq) or (not falling and seg.p1 < liq):
                continue
            self._liquidate(uid, sym, liq, seg.price_time(liq))

    def _liquidate(self, uid: int, sym: str, price: Decimal, t: int) -> None:
        """Liquidate what reached its liquidation price as BustTrade fills at market.

        An isolated position is liquidated alone (its symbol's orders cancelled first); a cross
        liquidation cancels every open order of the account and closes every cross position
        (``price`` for the symbol that crossed, the last price for the others), isolated positions
        untouched.
        """
        isolated = self.positions[(uid, sym)].isolated
        for o in sorted(self.open_orders[uid].values(), key=lambda o: o.seq):
            if isolated and o.symbol != sym:
                continue
            self._unrest(o)
            self._close(
                o,
                "Deactivated" if o.status == "Untriggered" else "Cancelled",
                "EC_NoError",
                cancel_type="CancelAllBeforeLiq",
            )
        for symbol in INSTRUMENTS:
            pos = self.positions.get((uid, symbol))
            if pos is None or not pos.size:
                continue
            if (symbol != sym) if isolated else pos.isolated:
                continue
            px = price if symbol == sym else self.last[symbol]
            order = Order(
                order_id=new_id(),
                order_link_id="",
                uid=uid,
                symbol=symbol,
                side="Sell" if pos.size > 0 else "Buy",
                order_type="Market",
                price=px,
                qty=abs(pos.size),
                time_in_force="IOC",
                reduce_only=True,
                close_on_trigger=False,
                status="New",
                created_ms=t,
                updated_ms=t,
                last_price_on_created=px,
                create_type="CreateByLiq",
                seq=self.next_seq(),
            )
            self._index(order, rest=False)
            self._execute(order, px, order.qty, maker=False, t=t, exec_type="BustTrade")

    # --- funding ------------------------------------------------------------------------------
    def _settle_funding(self, t: int) -> None:
        """Charge or pay funding on every open position at funding time ``t`` (see funding.py):
        the wallet, cum/curRealisedPnl, an execType Funding execution and a SETTLEMENT log row."""
        for sym in INSTRUMENTS:
            rate = funding_rate(sym, t)
            mark = self.last[sym]
            for uid in sorted(self.holders.get(sym, ())):
                pos = self.positions[(uid, sym)]
                if not pos.size:
                    continue
                self._book_funding(pos, rate, mark, t)

    def _book_funding(self, pos: Position, rate: Decimal, mark: Decimal, t: int) -> None:
        account = self.accounts[pos.uid]
        size = abs(pos.size)
        value = size * mark
        paid = q8(value * rate) * (1 if pos.size > 0 else -1)  # > 0: the position pays
        account.wallet_balance -= paid
        account.updated_ms = t
        pos.cum_realised_pnl -= paid
        pos.cur_realised_pnl -= paid
        pos.updated_ms = t
        exec_id = new_id()
        execution = Execution(
            exec_id=exec_id,
            uid=pos.uid,
            order_id=new_id(),  # Bybit gives a funding execution an order id of its own
            order_link_id="",
            symbol=pos.symbol,
            side=pos.side,
            order_type="UNKNOWN",
            stop_order_type="",
            exec_price=mark,
            exec_qty=size,
            exec_value=value,
            exec_fee=paid,
            fee_rate=rate,
            is_maker=False,
            exec_time=t,
            leaves_qty=ZERO,
            order_qty=ZERO,
            order_price=ZERO,
            mark_price=mark,
            closed_size=ZERO,
            exec_pnl=ZERO,
            seq=self.next_seq(),
            create_type="",
            exec_type="Funding",
        )
        self.executions[pos.uid].append(execution)
        self.store.put("executions", exec_id, pos.uid, execution.seq, execution)
        self._events.setdefault(pos.uid, {}).setdefault("execution", {})[exec_id] = execution
        self._log(
            pos.uid,
            symbol=pos.symbol,
            side=pos.side,
            type="SETTLEMENT",
            trans_time=t,
            qty=size,
            size=pos.size,
            trade_price=mark,
            fee=ZERO,
            cash_flow=ZERO,
            change=-paid,
            cash_balance=account.wallet_balance,
            fee_rate=rate,
            trade_id=exec_id,
            order_id=execution.order_id,
            order_link_id="",
            funding=-paid,
        )
        self._save_account(account)
        self._save_position(pos)

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
            order_id=new_id(),
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
        if pos.isolated:
            # An isolated position's margin follows its leverage (value / leverage), as on Bybit.
            pos.position_margin = q8(abs(pos.size) * pos.avg_price / pos.leverage)
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
        """One-way (0) is the only mode. By ``coin`` Bybit switches, in a batch, every symbol of that
        settle coin without position or open order, so asking for the mode already in force
        succeeds; by ``symbol`` (which takes priority) it answers 110025 "not modified"."""
        mode = integer(p, "mode")
        if mode not in (0, 3):
            raise BybitError(e.PARAM_ERROR, "params error: mode invalid")
        symbol = text(p, "symbol")
        coin = text(p, "coin")
        if not symbol and not coin:
            raise BybitError(e.PARAM_ERROR, "params error: symbol or coin is required")
        if symbol:
            self._instrument(p)
        elif coin != "USDT":
            raise BybitError(e.PARAM_ERROR, "params error: coin invalid")
        if mode == 3:
            raise BybitError(
                e.PARAM_ERROR, "params error: the simulator trades in one-way mode only"
            )
        if symbol:
            raise e.error(e.POSITION_MODE_NOT_MODIFIED)

    def set_margin_mode(self, uid: int, mode: str) -> None:
        """Account-level cross (REGULAR_MARGIN) or isolated margin. Refused, as Bybit does, while
        USDT perpetual orders are open (reason 3400054). Open positions keep the mode they opened
        in until they are flat (Bybit would convert them; see docs/simulator.md)."""
        account = self.accounts[uid]
        if mode == account.margin_mode:
            raise BybitError(110026, "Cross/isolated margin mode has not been modified.")
        active = [
            o
            for o in self.open_orders[uid].values()
            if o.stop_order_type not in ("TakeProfit", "StopLoss")
        ]
        if active:
            raise e.MarginModeError("3400054", "You have uncancelled USDT perpetual orders")
        account.margin_mode = mode
        account.updated_ms = self.clock.now()
        self._save_account(account)

    def _isolated_position(self, uid: int, p: dict[str, Any]) -> Position:
        if text(p, "category") != "linear":
            raise BybitError(e.PARAM_ERROR, "params error: category only support linear")
        inst = self._instrument(p)
        if (integer(p, "positionIdx", 0) or 0) != 0:
            raise BybitError(e.PARAM_ERROR, "position idx not match position mode")
        pos = self.position(uid, inst.symbol)
        if pos.size and not pos.isolated:
            raise BybitError(110015, "The position is in cross margin mode.")
        return pos

    def add_margin(self, uid: int, p: dict[str, Any]) -> Position:
        """Add (positive) or reduce (negative) an isolated position's margin."""
        pos = self._isolated_position(uid, p)
        amount = dec(p, "margin")
        if amount is None or not amount:
            raise BybitError(e.PARAM_ERROR, "params error: margin invalid")
        if not pos.size:
            raise BybitError(110033, "You can't set margin without an open position")
        if amount > 0:
            upl, pos_im, order_im, _ = self.margin(uid)
            available = self.accounts[uid].wallet_balance + min(upl, ZERO) - pos_im - order_im
            if amount > available:
                raise BybitError(110014, "Insufficient available balance to add additional margin.")
        else:
            value = abs(pos.size) * pos.avg_price
            unrealised = (self.last[pos.symbol] - pos.avg_price) * pos.size
            floor = value / pos.leverage - min(unrealised, ZERO)
            if pos.position_margin + amount < floor:
                raise BybitError(110078, "Added margin more than max can reduce margin")
        pos.position_margin += amount
        pos.updated_ms = self.clock.now()
        self._save_position(pos)
        self._wallet_dirty.add(uid)
        return pos

    def set_auto_add_margin(self, uid: int, p: dict[str, Any]) -> None:
        """Store the flag Bybit keeps per isolated position (the top-up itself is not modelled)."""
        flag_value = integer(p, "autoAddMargin")
        if flag_value not in (0, 1):
            raise BybitError(e.PARAM_ERROR, "params error: autoAddMargin invalid")
        pos = self.position(uid, self._instrument(p).symbol)
        if not pos.isolated and self.accounts[uid].margin_mode != "ISOLATED_MARGIN":
            raise BybitError(110076, "Only isolated mode can set auto-add-margin")
        pos = self._isolated_position(uid, p)
        pos.auto_add_margin = flag_value
        pos.updated_ms = self.clock.now()
        self._save_position(pos)
