"""Signed trading endpoints: order entry, batches, order and execution queries, positions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchange.simulator import bybit_json
from exchange.simulator.engine import Engine
from exchange.simulator.errors import PARAM_ERROR, BybitError
from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.market_data import DAY
from exchange.simulator.pagination import page
from exchange.simulator.params import limit, text
from exchange.simulator.records import ApiKey
from exchange.simulator.rest_common import (
    Params,
    linear_only,
    symbol_param,
    time_window,
    uid_of,
)


def order_create(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    order = eng.place_order(uid_of(key), p)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def order_amend(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    order = eng.amend_order(uid_of(key), p)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def order_cancel(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    order = eng.cancel_order(uid_of(key), p)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def order_cancel_all(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    done = eng.cancel_all(uid_of(key), p)
    return {
        "list": [{"orderId": o.order_id, "orderLinkId": o.order_link_id} for o in done],
        "success": "1",
    }


def _batch(
    eng: Engine, p: Params, key: ApiKey | None, action: Callable[..., Any], create: bool = False
) -> Any:
    linear_only(p)
    requests = p.get("request")
    if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
        raise BybitError(PARAM_ERROR, "params error: request must hold 1 to 20 orders")
    results, codes = [], []
    for item in requests:
        item = {**item, "category": "linear"} if isinstance(item, dict) else {}
        try:
            order = action(uid_of(key), item)
            row = {
                "category": "linear",
                "symbol": order.symbol,
                "orderId": order.order_id,
                "orderLinkId": order.order_link_id,
            }
            results.append({**row, "createAt": str(order.created_ms)} if create else row)
            codes.append({"code": 0, "msg": "OK"})
        except BybitError as exc:
            row = {
                "category": "linear",
                "symbol": text(item, "symbol"),
                "orderId": "",
                "orderLinkId": text(item, "orderLinkId"),
            }
            results.append({**row, "createAt": ""} if create else row)
            codes.append({"code": exc.code, "msg": exc.message})
    return BatchResult({"list": results}, {"list": codes})


class BatchResult:
    """A batch answer: ``result`` plus the per-item codes Bybit puts in ``retExtInfo``."""

    def __init__(self, result: dict[str, Any], ext: dict[str, Any]) -> None:
        self.result = result
        self.ext = ext


def create_batch(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    return _batch(eng, p, key, eng.place_order, create=True)


def amend_batch(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    return _batch(eng, p, key, eng.amend_order)


def cancel_batch(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    return _batch(eng, p, key, eng.cancel_order)


def _order_filter(eng: Engine, p: Params) -> tuple[str, str, str]:
    linear_only(p)
    symbol = symbol_param(p, required=False)
    return symbol, text(p, "baseCoin"), text(p, "settleCoin")


def _matches(o: Any, symbol: str, base: str, settle: str) -> bool:
    if symbol and o.symbol != symbol:
        return False
    if base and INSTRUMENTS[o.symbol].base_coin != base:
        return False
    return not (settle and settle != "USDT")


def order_realtime(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Open orders; by orderId/orderLinkId it also finds the account's 500 latest closed ones."""
    uid = uid_of(key)
    symbol, base, settle = _order_filter(eng, p)
    order_id, link_id = text(p, "orderId"), text(p, "orderLinkId")
    if order_id or link_id:
        recent_closed = [o for o in reversed(eng.orders_by_uid[uid]) if not o.is_open][:500]
        pool = list(eng.open_orders[uid].values()) + recent_closed
        rows = [
            o
            for o in pool
            if (not order_id or o.order_id == order_id)
            and (not link_id or o.order_link_id == link_id)
        ]
    else:
        rows = list(eng.open_orders[uid].values())
    flt = text(p, "orderFilter")
    if flt == "Order":
        rows = [o for o in rows if o.status != "Untriggered"]
    elif flt in ("StopOrder", "tpslOrder"):
        rows = [o for o in rows if o.status == "Untriggered"]
    rows = sorted((o for o in rows if _matches(o, symbol, base, settle)), key=lambda o: -o.seq)
    chunk, cursor = page(rows, lambda o: o.seq, limit(p, 20, 50), text(p, "cursor"))
    return {
        "list": [bybit_json.order_json(o, "realtime") for o in chunk],
        "nextPageCursor": cursor,
        "category": "linear",
    }


def order_history(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Closed and open orders; Cancelled/Rejected/Deactivated without fills only for 24 h."""
    uid = uid_of(key)
    symbol, base, settle = _order_filter(eng, p)
    now = eng.clock.now()
    start, end = time_window(eng, p)
    order_id, link_id = text(p, "orderId"), text(p, "orderLinkId")
    status = text(p, "orderStatus")
    rows = []
    for o in reversed(eng.orders_by_uid[uid]):
        if not _matches(o, symbol, base, settle):
            continue
        if (order_id and o.order_id != order_id) or (link_id and o.order_link_id != link_id):
            continue
        if status and o.status != status:
            continue
        if not (order_id or link_id) and not start <= o.created_ms <= end:
            continue
        expired = o.updated_ms < now - DAY
        if o.status in ("Cancelled", "Rejected", "Deactivated") and not o.cum_exec_qty and expired:
            continue
        rows.append(o)
    chunk, cursor = page(rows, lambda o: o.seq, limit(p, 20, 50), text(p, "cursor"))
    return {
        "list": [bybit_json.order_json(o) for o in chunk],
        "nextPageCursor": cursor,
        "category": "linear",
    }


def execution_list(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    uid = uid_of(key)
    symbol, base, _ = _order_filter(eng, p)
    start, end = time_window(eng, p)
    order_id, link_id = text(p, "orderId"), text(p, "orderLinkId")
    exec_type = text(p, "execType")
    rows = [
        x
        for x in reversed(eng.executions[uid])
        if (not symbol or x.symbol == symbol)
        and (not exec_type or x.exec_type == exec_type)
        and (not base or INSTRUMENTS[x.symbol].base_coin == base)
        and (not order_id or x.order_id == order_id)
        and (not link_id or x.order_link_id == link_id)
        and start <= x.exec_time <= end
    ]
    chunk, cursor = page(rows, lambda x: x.seq, limit(p, 50, 100), text(p, "cursor"))
    return {
        "nextPageCursor": cursor,
        "category": "linear",
        "list": [bybit_json.execution_json(x) for x in chunk],
    }


def position_list(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    uid = uid_of(key)
    linear_only(p)
    symbol = symbol_param(p, required=False)
    settle = text(p, "settleCoin")
    if not symbol and not settle:
        raise BybitError(PARAM_ERROR, "params error: symbol or settleCoin is required")
    if symbol:
        rows = [eng.position(uid, symbol)]
    elif settle == "USDT":
        rows = [
            pos for (owner, _), pos in sorted(eng.positions.items()) if owner == uid and pos.size
        ]
    else:
        rows = []
    n = limit(p, 20, 200)
    return {
        "list": [
            bybit_json.position_json(pos, eng.last[pos.symbol], eng.liq_price(uid, pos.symbol))
            for pos in rows[:n]
        ],
        "nextPageCursor": "",
        "category": "linear",
    }


def closed_pnl(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    uid = uid_of(key)
    linear_only(p)
    symbol = symbol_param(p, required=False)
    start, end = time_window(eng, p)
    rows = [
        c
        for c in sorted(eng.closed_pnl[uid], key=lambda c: -c.record_id)
        if (not symbol or c.symbol == symbol) and start <= c.updated_ms <= end
    ]
    chunk, cursor = page(rows, lambda c: c.record_id, limit(p, 50, 100), text(p, "cursor"))
    return {
        "nextPageCursor": cursor,
        "category": "linear",
        "list": [bybit_json.closed_pnl_json(c) for c in chunk],
    }


def set_leverage(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    eng.set_leverage(uid_of(key), p)
    return {}


def trading_stop(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    eng.trading_stop(uid_of(key), p)
    return {}


def switch_mode(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    eng.switch_mode(uid_of(key), p)
    return {}


def add_margin(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """``/v5/position/add-margin``: Bybit answers with the position after the change."""
    uid = uid_of(key)
    pos = eng.add_margin(uid, p)
    full = bybit_json.position_json(pos, eng.last[pos.symbol], eng.liq_price(uid, pos.symbol))
    keys = [
        "positionIdx",
        "riskId",
        "riskLimitValue",
        "size",
        "avgPrice",
        "liqPrice",
        "bustPrice",
        "markPrice",
        "positionValue",
        "leverage",
        "autoAddMargin",
        "positionStatus",
        "positionIM",
        "positionMM",
        "takeProfit",
        "stopLoss",
        "trailingStop",
        "unrealisedPnl",
        "cumRealisedPnl",
        "createdTime",
        "updatedTime",
    ]
    return {"category": "linear", "symbol": pos.symbol, **{k: full[k] for k in keys}}


def set_auto_add_margin(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    eng.set_auto_add_margin(uid_of(key), p)
    return {}
