"""Bybit's JSON shapes for the simulator's records: key names, key order and JSON types as the docs.

Everything numeric inside ``result`` goes out as a string (as Bybit sends it); sequence numbers,
``positionIdx`` and the like stay JSON numbers and flags stay booleans.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.records import (
    ZERO,
    Account,
    ClosedPnl,
    Execution,
    Order,
    Position,
    TransactionLog,
)


def s(value: Decimal) -> str:
    """A Decimal as Bybit writes numbers: plain notation, never an exponent."""
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def money(value: Decimal) -> str:
    """Balances and P&L, which Bybit prints with at most 8 decimals."""
    return s(value.quantize(Decimal("0.00000001")).normalize()) if value else "0"


# Key sets per answer, in the docs' order: the open-orders and history examples differ, and the
# order topic follows its field table (linear adds createType, parentOrderLinkId, ... to the example).
REALTIME_KEYS = [
    "orderId",
    "orderLinkId",
    "blockTradeId",
    "symbol",
    "price",
    "qty",
    "side",
    "isLeverage",
    "positionIdx",
    "orderStatus",
    "cancelType",
    "rejectReason",
    "avgPrice",
    "leavesQty",
    "leavesValue",
    "cumExecQty",
    "cumExecValue",
    "cumExecFee",
    "timeInForce",
    "orderType",
    "stopOrderType",
    "orderIv",
    "triggerPrice",
    "takeProfit",
    "stopLoss",
    "tpTriggerBy",
    "slTriggerBy",
    "triggerDirection",
    "triggerBy",
    "lastPriceOnCreated",
    "reduceOnly",
    "closeOnTrigger",
    "smpType",
    "smpGroup",
    "smpOrderId",
    "tpslMode",
    "tpLimitPrice",
    "slLimitPrice",
    "placeType",
    "createdTime",
    "updatedTime",
    "cumFeeDetail",
]
HISTORY_KEYS = [
    "orderId",
    "orderLinkId",
    "blockTradeId",
    "symbol",
    "price",
    "qty",
    "side",
    "isLeverage",
    "positionIdx",
    "orderStatus",
    "cancelType",
    "rejectReason",
    "avgPrice",
    "leavesQty",
    "leavesValue",
    "cumExecQty",
    "cumExecValue",
    "cumExecFee",
    "timeInForce",
    "orderType",
    "stopOrderType",
    "orderIv",
    "triggerPrice",
    "takeProfit",
    "stopLoss",
    "tpTriggerBy",
    "slTriggerBy",
    "triggerDirection",
    "triggerBy",
    "lastPriceOnCreated",
    "reduceOnly",
    "closeOnTrigger",
    "smpType",
    "smpGroup",
    "smpOrderId",
    "tpslMode",
    "tpLimitPrice",
    "slLimitPrice",
    "placeType",
    "slippageToleranceType",
    "slippageTolerance",
    "createdTime",
    "updatedTime",
    "extraFees",
    "cumFeeDetail",
    "rpiTakerAccess",
    "rpiMatchedQty",
]
WS_ORDER_KEYS = [
    "category",
    "orderId",
    "orderLinkId",
    "parentOrderLinkId",
    "isLeverage",
    "blockTradeId",
    "symbol",
    "price",
    "brokerOrderPrice",
    "qty",
    "side",
    "positionIdx",
    "orderStatus",
    "createType",
    "cancelType",
    "rejectReason",
    "avgPrice",
    "leavesQty",
    "leavesValue",
    "cumExecQty",
    "cumExecValue",
    "cumExecFee",
    "closedPnl",
    "feeCurrency",
    "timeInForce",
    "orderType",
    "stopOrderType",
    "ocoTriggerBy",
    "orderIv",
    "marketUnit",
    "slippageToleranceType",
    "slippageTolerance",
    "triggerPrice",
    "takeProfit",
    "stopLoss",
    "tpslMode",
    "tpLimitPrice",
    "slLimitPrice",
    "tpTriggerBy",
    "slTriggerBy",
    "triggerDirection",
    "triggerBy",
    "lastPriceOnCreated",
    "reduceOnly",
    "closeOnTrigger",
    "placeType",
    "smpType",
    "smpGroup",
    "smpOrderId",
    "createdTime",
    "updatedTime",
    "cumFeeDetail",
    "rpiTakerAccess",
    "rpiMatchedQty",
]


def order_json(o: Order, kind: str = "history") -> dict[str, Any]:
    """An order as ``realtime`` (open orders), ``history`` or ``ws`` (order topic) show it."""
    leaves = o.leaves_qty
    step = INSTRUMENTS[o.symbol].qty_step
    full: dict[str, Any] = {
        "category": "linear",
        "orderId": o.order_id,
        "orderLinkId": o.order_link_id,
        "parentOrderLinkId": "",
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": s(o.price),
        "brokerOrderPrice": "",
        "qty": s(o.qty),
        "side": o.side,
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": o.status,
        "createType": o.create_type,
        "cancelType": o.cancel_type,
        "rejectReason": o.reject_reason,
        "avgPrice": money(o.avg_price) if o.cum_exec_qty else ("" if kind == "ws" else "0"),
        "leavesQty": s(leaves.quantize(step)),
        "leavesValue": money(leaves * o.price),
        "cumExecQty": s(o.cum_exec_qty.quantize(step)),
        "cumExecValue": money(o.cum_exec_value),
        "cumExecFee": money(o.cum_exec_fee),
        "closedPnl": money(o.closed_pnl),
        "feeCurrency": "",
        "timeInForce": o.time_in_force,
        "orderType": o.order_type,
        "stopOrderType": o.stop_order_type,
        "ocoTriggerBy": "",
        "orderIv": "",
        "marketUnit": "",
        "triggerPrice": s(o.trigger_price),
        "takeProfit": s(o.take_profit),
        "stopLoss": s(o.stop_loss),
        "tpTriggerBy": o.tp_trigger_by,
        "slTriggerBy": o.sl_trigger_by,
        "triggerDirection": o.trigger_direction,
        "triggerBy": o.trigger_by,
        "lastPriceOnCreated": s(o.last_price_on_created),
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": o.close_on_trigger,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": o.tpsl_mode,
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "placeType": "",
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "",
        "createdTime": str(o.created_ms),
        "updatedTime": str(o.updated_ms),
        "extraFees": "",
        "cumFeeDetail": {"USDT": money(o.cum_exec_fee)} if o.cum_exec_fee else {},
        "rpiTakerAccess": False,
        "rpiMatchedQty": "0",
    }
    keys = {"realtime": REALTIME_KEYS, "history": HISTORY_KEYS, "ws": WS_ORDER_KEYS}[kind]
    return {k: full[k] for k in keys}


def execution_json(e: Execution, ws: bool = False) -> dict[str, Any]:
    """A fill as /v5/execution/list and the execution topic show it."""
    data: dict[str, Any] = {
        "symbol": e.symbol,
        "orderType": e.order_type,
        "underlyingPrice": "",
        "orderLinkId": e.order_link_id,
        "side": e.side,
        "indexPrice": s(e.mark_price),
        "orderId": e.order_id,
        "stopOrderType": e.stop_order_type or "UNKNOWN",
        "leavesQty": s(e.leaves_qty),
        "execTime": str(e.exec_time),
        "feeCurrency": "USDT",
        "isMaker": e.is_maker,
        "execFee": money(e.exec_fee),
        "feeRate": s(e.fee_rate),
        "execId": e.exec_id,
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": s(e.mark_price),
        "execPrice": s(e.exec_price),
        "markIv": "",
        "orderQty": s(e.order_qty),
        "orderPrice": s(e.order_price),
        "execValue": money(e.exec_value),
        "execType": e.exec_type,
        "execQty": s(e.exec_qty),
        "closedSize": s(e.closed_size),
        "extraFees": "",
        "seq": e.seq,
        # Not in the docs' example but in its field table (createType, execFeeV2) or in real
        # answers (marketUnit: Bybit's own stream example and execution/list replies carry it).
        "createType": e.create_type,
        "execFeeV2": "",
        "marketUnit": "",
    }
    if ws:
        # The execution topic's field table (linear): REST's keys plus these, extraFees a list.
        data = {
            "category": "linear",
            "isLeverage": "",
            **{k: v for k, v in data.items() if k != "execFeeV2"},  # REST-only (its table)
            "execPnl": money(e.exec_pnl),
            "extraFees": [],
        }
    return data


def position_json(
    p: Position, mark: Decimal, liq: Decimal | None, ws: bool = False
) -> dict[str, Any]:
    """A one-way position (positionIdx 0); the WS variant says ``entryPrice`` where REST says
    avgPrice. ``liq`` is the account-level liquidation price (see State.liq_price)."""
    size = abs(p.size)
    value = size * p.avg_price
    upl = (mark - p.avg_price) * p.size if p.size else ZERO
    im = (p.position_margin if p.isolated else value / p.leverage) if size else ZERO
    mm = value * INSTRUMENTS[p.symbol].maintenance_rate if size else ZERO
    data: dict[str, Any] = {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": p.symbol,
        "side": p.side,
        "size": s(size) if size else "0",
        "avgPrice": money(p.avg_price),
        "positionValue": money(value),
        "tradeMode": p.trade_mode if size else 0,
        "positionStatus": "Normal",
        "autoAddMargin": p.auto_add_margin,
        "adlRankIndicator": 2 if size else 0,
        "leverage": s(p.leverage),
        "breakEvenPrice": money(p.avg_price) if size else "",
        "positionBalance": money(im),
        "markPrice": s(mark),
        "liqPrice": s(liq) if size and liq is not None else "",
        "bustPrice": "",
        "positionMM": money(mm),
        "positionMMByMp": money(mm),
        "positionIM": money(im),
        "positionIMByMp": money(im),
        "tpslMode": "Full",
        "takeProfit": s(p.take_profit),
        "stopLoss": s(p.stop_loss),
        "trailingStop": "0",
        "unrealisedPnl": money(upl),
        "curRealisedPnl": money(p.cur_realised_pnl),
        "cumRealisedPnl": money(p.cum_realised_pnl),
        "seq": p.seq,
        "isReduceOnly": False,
        "mmrSysUpdateTime": "",
        "leverageSysUpdatedTime": "",
        "sessionAvgPrice": "",
        "createdTime": str(p.created_ms),
        "updatedTime": str(p.updated_ms),
    }
    if ws:
        data["entryPrice"] = data.pop("avgPrice")
        data["category"] = "linear"
        data["mmrSysUpdatedTime"] = data.pop("mmrSysUpdateTime")
    return data


def wallet_json(
    account: Account,
    upl: Decimal,
    position_im: Decimal,
    order_im: Decimal,
    position_mm: Decimal,
    cum_realised: Decimal,
) -> dict[str, Any]:
    """The UNIFIED wallet with its USDT coin row (USDT valued at 1 USD)."""
    wallet = account.wallet_balance
    equity = wallet + upl
    im = position_im + order_im
    available = max(equity - im, ZERO)
    withdrawable = max(min(wallet, equity) - im, ZERO)
    im_rate = (im / equity).quantize(Decimal("0.0001")) if equity > 0 else ZERO
    mm_rate = (position_mm / equity).quantize(Decimal("0.0001")) if equity > 0 else ZERO
    return {
        "totalEquity": money(equity),
        "accountIMRate": s(im_rate),
        "accountIMRateByMp": s(im_rate),
        "totalMarginBalance": money(equity),
        "totalInitialMargin": money(im),
        "totalInitialMarginByMp": money(im),
        "accountType": "UNIFIED",
        "totalAvailableBalance": money(available),
        "accountMMRate": s(mm_rate),
        "accountMMRateByMp": s(mm_rate),
        "totalPerpUPL": money(upl),
        "totalWalletBalance": money(wallet),
        "accountLTV": "0",
        "totalMaintenanceMargin": money(position_mm),
        "totalMaintenanceMarginByMp": money(position_mm),
        "coin": [
            {
                "availableToBorrow": "",
                "bonus": "0",
                "accruedInterest": "0",
                "availableToWithdraw": money(withdrawable),
                "totalOrderIM": money(order_im),
                "equity": money(equity),
                "totalPositionMM": money(position_mm),
                "usdValue": money(equity),
                "spotHedgingQty": "0",
                "unrealisedPnl": money(upl),
                "collateralSwitch": True,
                "borrowAmount": "0",
                "totalPositionIM": money(position_im),
                "walletBalance": money(wallet),
                "cumRealisedPnl": money(cum_realised),
                "locked": "0",
                "marginCollateral": True,
                "coin": "USDT",
                "spotBorrow": "0",
            }
        ],
    }


def closed_pnl_json(c: ClosedPnl) -> dict[str, Any]:
    return {
        "symbol": c.symbol,
        "orderType": c.order_type,
        "leverage": s(c.leverage),
        "updatedTime": str(c.updated_ms),
        "side": c.side,
        "orderId": c.order_id,
        "closedPnl": money(c.closed_pnl),
        "avgEntryPrice": money(c.avg_entry_price),
        "qty": s(c.qty),
        "cumEntryValue": money(c.cum_entry_value),
        "createdTime": str(c.created_ms),
        "orderPrice": s(c.order_price),
        "closedSize": s(c.closed_size),
        "avgExitPrice": money(c.avg_exit_price),
        "execType": c.exec_type,
        "fillCount": str(c.fill_count),
        "cumExitValue": money(c.cum_exit_value),
    }


def transaction_json(t: TransactionLog) -> dict[str, Any]:
    """A transaction-log row in the field order of docs/v5/account/transaction-log."""
    return {
        "id": f"{t.uid}-{t.record_id}",
        "symbol": t.symbol,
        "category": "linear" if t.symbol else "",
        "side": t.side,
        "transactionTime": str(t.trans_time),
        "type": t.type,
        "transSubType": t.trans_sub_type,
        "qty": s(t.qty),
        "size": s(t.size),
        "currency": "USDT",
        "tradePrice": s(t.trade_price) if t.trade_price else "",
        "funding": money(t.funding) if t.type == "SETTLEMENT" else "",
        "fee": money(t.fee) if t.fee or t.type == "SETTLEMENT" else "",
        "cashFlow": money(t.cash_flow),
        "change": money(t.change),
        "cashBalance": money(t.cash_balance),
        "feeRate": s(t.fee_rate) if t.fee_rate else "",
        "bonusChange": "",
        "tradeId": t.trade_id,
        "orderId": t.order_id,
        "orderLinkId": t.order_link_id,
        "extraFees": "",
    }
