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
from exchange.simulator.instruments import INSTRUMENTS, TAKER_FEE, Instrument
from exchange.simulator.ledger import Ledger
from exchange.simulator.market_data import Segment
from exchange.simulator.params import dec, flag, integer, text
from exchange.simulator.records import ZERO, Order, Position
from exchange.simulator.state import LINK_ID, MAX_ACTIVE_ORDERS, new_id


class Engine(Ledger):
    """All accounts and markets of one simulator process: the operations the API calls."""

    # --- the market clock ---------------------------------------------------------------------
    def advance_to(self, t: int) -> None:
        """Replay the market up to sim time ``t``: fill, trigger and move the last price."""
        if t <= self.processed_to:
            return
        a = self.processed_to
        self._liq_cache.clear()  # other symbols' prices moved since they were computed
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
        """Cancel every open order of the account, then close every position at market
        (``price`` for the symbol that crossed, the last price for the others) as BustTrade."""
        for o in sorted(self.open_orders[uid].values(), key=lambda o: o.seq):
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
