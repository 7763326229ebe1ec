"""The /v5 REST endpoints: public market data and signed account/trade calls.

Each handler takes the parsed parameters and returns the ``result`` object; the server wraps it in
Bybit's envelope, applies auth, rate limits and faults (see server.py).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from exchange.simulator import orderbook, views
from exchange.simulator.engine import Engine
from exchange.simulator.errors import PARAM_ERROR, BybitError
from exchange.simulator.instruments import INSTRUMENTS, MAKER_FEE, TAKER_FEE
from exchange.simulator.market_data import DAY, INTERVALS
from exchange.simulator.models import ZERO, ApiKey
from exchange.simulator.pagination import page
from exchange.simulator.params import integer, limit, text

Params = dict[str, Any]
Handler = Callable[[Engine, Params, ApiKey | None], Any]
SEVEN_DAYS = 7 * DAY


def _linear(p: Params, required: bool = True) -> None:
    category = text(p, "category")
    if (required or category) and category != "linear":
        raise BybitError(PARAM_ERROR, "params error: category only support linear")


def _symbol(p: Params, required: bool = True) -> str:
    symbol = text(p, "symbol")
    if symbol and symbol not in INSTRUMENTS:
        raise BybitError(PARAM_ERROR, "params error: symbol invalid")
    if required and not symbol:
        raise BybitError(PARAM_ERROR, "params error: symbol is required")
    return symbol


def _window(eng: Engine, p: Params) -> tuple[int, int]:
    """startTime/endTime as Bybit reads them: 7 days back from the end by default, at most 7 days."""
    now = eng.clock.now()
    start = integer(p, "startTime")
    end = integer(p, "endTime")
    if start is None:
        top = now if end is None else end
        return top - SEVEN_DAYS, top
    if end is None:
        return start, start + SEVEN_DAYS
    if end - start > SEVEN_DAYS:
        raise BybitError(PARAM_ERROR, "params error: The time range cannot exceed 7 days")
    return start, end


# --- market ----------------------------------------------------------------------------------
def market_time(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    ms = eng.clock.server_ms()
    return {"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)}


def kline_rows(eng: Engine, p: Params, mark: bool) -> Any:
    _linear(p)
    symbol = _symbol(p)
    interval = text(p, "interval")
    if interval not in INTERVALS:
        raise BybitError(PARAM_ERROR, "params error: interval invalid")
    n = limit(p, 200, 1000)
    start, end = integer(p, "start"), integer(p, "end")
    candles = eng.market.klines(symbol, interval, start, end, n, eng.clock.now())
    rows = []
    for c in candles:
        row = [str(c.start), views.s(c.open), views.s(c.high), views.s(c.low), views.s(c.close)]
        if not mark:
            # The source files have no turnover, so it is volume x the candle's mean price.
            turnover = c.volume * (c.open + c.high + c.low + c.close) / 4
            row += [views.s(c.volume), views.s(turnover.quantize(Decimal("0.0001")))]
        rows.append(row)
    return {"symbol": symbol, "category": "linear", "list": rows}


def kline(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    return kline_rows(eng, p, mark=False)


def mark_price_kline(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    return kline_rows(eng, p, mark=True)


def ticker_data(eng: Engine, symbol: str) -> dict[str, Any]:
    """The linear ticker; mark and index price equal the replayed last price (no basis)."""
    inst = INSTRUMENTS[symbol]
    now = eng.clock.now()
    st = eng.market.stats_24h(symbol, now)
    last = eng.last[symbol]
    bids, asks = orderbook.levels(inst, last, now, depth=1)
    change = (last - st["prev24h"]) / st["prev24h"] if st["prev24h"] else ZERO
    mid = (st["high"] + st["low"]) / 2
    next_funding = now - now % (8 * 3_600_000) + 8 * 3_600_000
    return {
        "symbol": symbol,
        "lastPrice": views.s(last),
        "indexPrice": views.s(last),
        "markPrice": views.s(last),
        "prevPrice24h": views.s(st["prev24h"]),
        "price24hPcnt": views.s(change.quantize(Decimal("0.000001"))),
        "highPrice24h": views.s(st["high"]),
        "lowPrice24h": views.s(st["low"]),
        "prevPrice1h": views.s(st["prev1h"]),
        "openInterest": "0",
        "openInterestValue": "0",
        "turnover24h": views.s((st["volume"] * mid).quantize(Decimal("0.0001"))),
        "volume24h": views.s(st["volume"]),
        "fundingRate": "0",
        "nextFundingTime": str(next_funding),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": views.s(asks[0][1]),
        "bid1Price": views.s(bids[0][0]),
        "ask1Price": views.s(asks[0][0]),
        "bid1Size": views.s(bids[0][1]),
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": "8",
        "basisRateYear": "",
        "fundingCap": "0.005",
    }


def tickers(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    symbol = _symbol(p, required=False)
    symbols = [symbol] if symbol else list(INSTRUMENTS)
    return {"category": "linear", "list": [ticker_data(eng, s) for s in symbols]}


def instruments_info(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    symbol = _symbol(p, required=False)
    items = [i.info() for s, i in INSTRUMENTS.items() if not symbol or s == symbol]
    return {"category": "linear", "list": items, "nextPageCursor": ""}


def book_data(eng: Engine, symbol: str, depth: int) -> dict[str, Any]:
    inst = INSTRUMENTS[symbol]
    now = eng.clock.now()
    bids, asks = orderbook.levels(inst, eng.last[symbol], now, depth=depth)
    return {
        "s": symbol,
        "b": [[views.s(px), views.s(q)] for px, q in bids],
        "a": [[views.s(px), views.s(q)] for px, q in asks],
        "ts": now,
        "u": now // 100,
        "seq": now // 10,
        "cts": now,
    }


def orderbook_snapshot(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    symbol = _symbol(p)
    return book_data(eng, symbol, limit(p, 25, 500))


def recent_trade(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    symbol = _symbol(p)
    n = limit(p, 500, 1000)
    trades = [t for t in reversed(eng.public_trades_log) if t[0] == symbol][:n]
    return {
        "category": "linear",
        "list": [
            {
                "execId": tid,
                "symbol": sym,
                "price": views.s(px),
                "size": views.s(q),
                "side": side,
                "time": str(ts),
                "isBlockTrade": False,
                "isRPITrade": False,
                "seq": str(ts // 10),
            }
            for sym, ts, side, q, px, tid in trades
        ],
    }


# --- account and user ------------------------------------------------------------------------
def _uid(key: ApiKey | None) -> int:
    if key is None:
        raise RuntimeError("private handler without a key")
    return key.uid


def query_api(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    if key is None:
        raise RuntimeError("private handler without a key")
    wallet = ["AccountTransfer", "SubMemberTransfer"] + (["Withdraw"] if key.withdraw else [])
    created = views_iso(key.created_ms)
    return {
        "id": str(key.key_id),
        "note": key.note,
        "apiKey": key.api_key,
        "readOnly": 1 if key.read_only else 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": wallet,
            "Options": ["OptionsTrade"],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": ["ExchangeHistory"],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
            "FiatP2P": [],
            "FiatConvertBroker": [],
            "FiatGlobalPay": [],
            "FiatBitPay": [],
            "BitCard": [],
            "ByXPost": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -2,
        "expiredAt": "1970-01-01T00:00:00Z",
        "createdAt": created,
        "unified": 0,
        "uta": 1,
        "userID": key.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
        "userIDInt64": str(key.uid),
        "inviterIDInt64": "0",
        "affiliateIDInt64": "0",
    }


def views_iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_info(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    account = eng.accounts[_uid(key)]
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": str(account.created_ms),
        "unifiedMarginStatus": 6,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def wallet_item(eng: Engine, uid: int) -> dict[str, Any]:
    upl, pos_im, order_im, pos_mm = eng.margin(uid)
    return views.wallet_json(
        eng.accounts[uid], upl, pos_im, order_im, pos_mm, eng.cum_realised(uid)
    )


def wallet_balance(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    if text(p, "accountType") != "UNIFIED":
        raise BybitError(PARAM_ERROR, "accountType only support UNIFIED")
    item = wallet_item(eng, _uid(key))
    coins = [c for c in text(p, "coin").split(",") if c]
    if coins:
        item["coin"] = [c for c in item["coin"] if c["coin"] in coins]
    return {"list": [item]}


def fee_rate(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    category = text(p, "category", "linear")
    if category != "linear":
        raise BybitError(PARAM_ERROR, "params error: category only support linear")
    symbol = _symbol(p, required=False)
    base = text(p, "baseCoin")
    rows = [
        {"symbol": s, "takerFeeRate": str(TAKER_FEE), "makerFeeRate": str(MAKER_FEE)}
        for s, i in INSTRUMENTS.items()
        if (not symbol or s == symbol) and (not base or i.base_coin == base)
    ]
    return {"list": rows}


def transaction_log(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    account_type = text(p, "accountType", "UNIFIED")
    if account_type != "UNIFIED":
        raise BybitError(PARAM_ERROR, "accountType only support UNIFIED")
    _linear(p, required=False)
    start, end = _window(eng, p)
    kind = text(p, "type")
    currency = text(p, "currency")
    base = text(p, "baseCoin")
    rows = [
        t
        for t in reversed(eng.tx_log[_uid(key)])
        if start <= t.trans_time <= end
        and (not kind or t.type == kind)
        and (not currency or currency == "USDT")
        and (not base or (t.symbol and INSTRUMENTS[t.symbol].base_coin == base))
        and (not text(p, "category") or t.symbol)
    ]
    chunk, cursor = page(rows, lambda t: t.record_id, limit(p, 20, 50), text(p, "cursor"))
    return {"nextPageCursor": cursor, "list": [views.transaction_json(t) for t in chunk]}


def set_margin_mode(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    mode = text(p, "setMarginMode")
    if mode not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
        raise BybitError(PARAM_ERROR, "params error: setMarginMode invalid")
    if mode == "REGULAR_MARGIN":
        raise BybitError(110026, "Cross/isolated margin mode has not been modified.")
    raise MarginModeError()


def quick_repayment(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Nothing is ever borrowed here, so there is nothing to repay (Bybit answers an empty list;
    its 182120 answer is for manual borrows, which the simulator does not have)."""
    _uid(key)
    return {"list": []}


class MarginModeError(BybitError):
    """Bybit's 3400045 answer, which carries reasons in ``result`` (the simulator is cross only)."""

    def __init__(self) -> None:
        super().__init__(3400045, "Set margin mode failed")
        self.result = {
            "reasons": [
                {
                    "reasonCode": "3400000",
                    "reasonMsg": "The simulator supports cross margin (REGULAR_MARGIN) only",
                }
            ]
        }


# --- trade -----------------------------------------------------------------------------------
def order_create(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    order = eng.place_order(_uid(key), p)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def order_amend(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    order = eng.amend_order(_uid(key), p)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def order_cancel(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    order = eng.cancel_order(_uid(key), p)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def order_cancel_all(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    done = eng.cancel_all(_uid(key), p)
    return {
        "list": [{"orderId": o.order_id, "orderLinkId": o.order_link_id} for o in done],
        "success": "1",
    }


def _batch(
    eng: Engine, p: Params, key: ApiKey | None, action: Callable[..., Any], create: bool = False
) -> Any:
    _linear(p)
    requests = p.get("request")
    if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
        raise BybitError(PARAM_ERROR, "params error: request must hold 1 to 20 orders")
    results, codes = [], []
    for item in requests:
        item = {**item, "category": "linear"} if isinstance(item, dict) else {}
        try:
            order = action(_uid(key), item)
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
    _linear(p)
    symbol = _symbol(p, required=False)
    return symbol, text(p, "baseCoin"), text(p, "settleCoin")


def _matches(o: Any, symbol: str, base: str, settle: str) -> bool:
    if symbol and o.symbol != symbol:
        return False
    if base and INSTRUMENTS[o.symbol].base_coin != base:
        return False
    return not (settle and settle != "USDT")


def order_realtime(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Open orders; by orderId/orderLinkId it also finds the account's 500 latest closed ones."""
    uid = _uid(key)
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
        "list": [views.order_json(o, "realtime") for o in chunk],
        "nextPageCursor": cursor,
        "category": "linear",
    }


def order_history(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Closed and open orders; Cancelled/Rejected/Deactivated without fills only for 24 h."""
    uid = _uid(key)
    symbol, base, settle = _order_filter(eng, p)
    now = eng.clock.now()
    start, end = _window(eng, p)
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
        "list": [views.order_json(o) for o in chunk],
        "nextPageCursor": cursor,
        "category": "linear",
    }


def execution_list(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    uid = _uid(key)
    symbol, base, _ = _order_filter(eng, p)
    start, end = _window(eng, p)
    order_id, link_id = text(p, "orderId"), text(p, "orderLinkId")
    rows = [
        x
        for x in reversed(eng.executions[uid])
        if (not symbol or x.symbol == symbol)
        and (not base or INSTRUMENTS[x.symbol].base_coin == base)
        and (not order_id or x.order_id == order_id)
        and (not link_id or x.order_link_id == link_id)
        and start <= x.exec_time <= end
    ]
    chunk, cursor = page(rows, lambda x: x.seq, limit(p, 50, 100), text(p, "cursor"))
    return {
        "nextPageCursor": cursor,
        "category": "linear",
        "list": [views.execution_json(x) for x in chunk],
    }


def position_list(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    uid = _uid(key)
    _linear(p)
    symbol = _symbol(p, required=False)
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
        "list": [views.position_json(pos, eng.last[pos.symbol]) for pos in rows[:n]],
        "nextPageCursor": "",
        "category": "linear",
    }


def closed_pnl(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    uid = _uid(key)
    _linear(p)
    symbol = _symbol(p, required=False)
    start, end = _window(eng, p)
    rows = [
        c
        for c in sorted(eng.closed_pnl[uid], key=lambda c: -c.record_id)
        if (not symbol or c.symbol == symbol) and start <= c.updated_ms <= end
    ]
    chunk, cursor = page(rows, lambda c: c.record_id, limit(p, 50, 100), text(p, "cursor"))
    return {
        "nextPageCursor": cursor,
        "category": "linear",
        "list": [views.closed_pnl_json(c) for c in chunk],
    }


def set_leverage(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    eng.set_leverage(_uid(key), p)
    return {}


def trading_stop(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    _linear(p)
    eng.trading_stop(_uid(key), p)
    return {}


def switch_mode(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    eng.switch_mode(_uid(key), p)
    return {}


PUBLIC: dict[tuple[str, str], Handler] = {
    ("GET", "/v5/market/time"): market_time,
    ("GET", "/v5/market/kline"): kline,
    ("GET", "/v5/market/mark-price-kline"): mark_price_kline,
    ("GET", "/v5/market/index-price-kline"): mark_price_kline,
    ("GET", "/v5/market/tickers"): tickers,
    ("GET", "/v5/market/instruments-info"): instruments_info,
    ("GET", "/v5/market/orderbook"): orderbook_snapshot,
    ("GET", "/v5/market/recent-trade"): recent_trade,
}

# (handler, needs a key that may write)
PRIVATE: dict[tuple[str, str], tuple[Handler, bool]] = {
    ("GET", "/v5/user/query-api"): (query_api, False),
    ("GET", "/v5/account/info"): (account_info, False),
    ("GET", "/v5/account/wallet-balance"): (wallet_balance, False),
    ("GET", "/v5/account/fee-rate"): (fee_rate, False),
    ("GET", "/v5/account/transaction-log"): (transaction_log, False),
    ("POST", "/v5/account/set-margin-mode"): (set_margin_mode, True),
    ("POST", "/v5/account/quick-repayment"): (quick_repayment, True),
    ("POST", "/v5/order/create"): (order_create, True),
    ("POST", "/v5/order/amend"): (order_amend, True),
    ("POST", "/v5/order/cancel"): (order_cancel, True),
    ("POST", "/v5/order/cancel-all"): (order_cancel_all, True),
    ("POST", "/v5/order/create-batch"): (create_batch, True),
    ("POST", "/v5/order/amend-batch"): (amend_batch, True),
    ("POST", "/v5/order/cancel-batch"): (cancel_batch, True),
    ("GET", "/v5/order/realtime"): (order_realtime, False),
    ("GET", "/v5/order/history"): (order_history, False),
    ("GET", "/v5/execution/list"): (execution_list, False),
    ("GET", "/v5/position/list"): (position_list, False),
    ("GET", "/v5/position/closed-pnl"): (closed_pnl, False),
    ("POST", "/v5/position/set-leverage"): (set_leverage, True),
    ("POST", "/v5/position/trading-stop"): (trading_stop, True),
    ("POST", "/v5/position/switch-mode"): (switch_mode, True),
}
