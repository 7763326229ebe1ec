"""Public market data: time, klines, tickers, instruments, order book, recent trades."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.simulator import bybit_json, orderbook
from exchange.simulator.bybit_json import s
from exchange.simulator.engine import Engine
from exchange.simulator.errors import PARAM_ERROR, BybitError
from exchange.simulator.funding import FUNDING_INTERVAL_MS, funding_rate, next_funding_time
from exchange.simulator.instruments import INSTRUMENTS, LISTED
from exchange.simulator.market_data import INTERVALS
from exchange.simulator.params import integer, limit, text
from exchange.simulator.records import ZERO, ApiKey
from exchange.simulator.rest_common import (
    Params,
    linear_only,
    symbol_param,
)


def market_time(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    ms = eng.clock.server_ms()
    return {"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)}


def kline_rows(eng: Engine, p: Params, mark: bool) -> Any:
    linear_only(p)
    symbol = symbol_param(p)
    interval = text(p, "interval")
    if interval not in INTERVALS:
        raise BybitError(PARAM_ERROR, "params error: interval invalid")
    n = limit(p, 200, 1000)
    start, end = integer(p, "start"), integer(p, "end")
    candles = eng.market.klines(symbol, interval, start, end, n, eng.clock.now())
    rows = []
    for c in candles:
        row = [
            str(c.start),
            bybit_json.s(c.open),
            bybit_json.s(c.high),
            bybit_json.s(c.low),
            bybit_json.s(c.close),
        ]
        if not mark:
            # The source files have no turnover, so it is volume x the candle's mean price.
            turnover = c.volume * (c.open + c.high + c.low + c.close) / 4
            row += [bybit_json.s(c.volume), bybit_json.s(turnover.quantize(Decimal("0.0001")))]
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
    next_funding = next_funding_time(now)
    return {
        "symbol": symbol,
        "lastPrice": bybit_json.s(last),
        "indexPrice": bybit_json.s(last),
        "markPrice": bybit_json.s(last),
        "prevPrice24h": bybit_json.s(st["prev24h"]),
        "price24hPcnt": bybit_json.s(change.quantize(Decimal("0.000001"))),
        "highPrice24h": bybit_json.s(st["high"]),
        "lowPrice24h": bybit_json.s(st["low"]),
        "prevPrice1h": bybit_json.s(st["prev1h"]),
        "openInterest": "0",
        "openInterestValue": "0",
        "turnover24h": bybit_json.s((st["volume"] * mid).quantize(Decimal("0.0001"))),
        "volume24h": bybit_json.s(st["volume"]),
        "fundingRate": s(funding_rate(symbol, next_funding)),
        "nextFundingTime": str(next_funding),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": bybit_json.s(asks[0][1]),
        "bid1Price": bybit_json.s(bids[0][0]),
        "ask1Price": bybit_json.s(asks[0][0]),
        "bid1Size": bybit_json.s(bids[0][1]),
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": "8",
        "basisRateYear": "",
        "fundingCap": "0.005",
    }


def tickers(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    symbol = symbol_param(p, required=False)
    symbols = [symbol] if symbol else list(INSTRUMENTS)
    return {"category": "linear", "list": [ticker_data(eng, sym) for sym in symbols]}


def instruments_info(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Every category Bybit lists, filtered by ``status`` (default ``Trading``) and ``baseCoin``.

    Only the two linear perpetuals trade; the spot pairs and inverse perpetuals of the same coins
    are listed as Bybit lists them so clients that load every category work, and options (which
    Bybit lists per strike and expiry) are an empty list. ``PreLaunch`` (pre-market contracts),
    ``Delivering`` and ``Closed`` match nothing here.
    """
    category = text(p, "category")
    if category not in LISTED:
        raise BybitError(PARAM_ERROR, "params error: category invalid")
    symbol = text(p, "symbol")
    base = text(p, "baseCoin")
    status = text(p, "status")
    if category == "spot" and base:
        raise BybitError(PARAM_ERROR, "params error: baseCoin is not supported for spot")
    items = [
        item
        for item in LISTED[category]
        if (not symbol or item["symbol"] == symbol)
        and (not base or item["baseCoin"] == base)
        and (item["status"] == status if status else item["status"] == "Trading")
    ]
    n = limit(p, 500, 1000)
    return {"category": category, "list": items[:n], "nextPageCursor": ""}


def risk_limit(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """``/v5/market/risk-limit``: the one tier the simulator applies to each linear contract
    (maintenance 0.5 %, initial 1 %, up to 100x, riskLimitValue 2,000,000 USDT)."""
    category = text(p, "category")
    if category not in ("linear", "inverse"):
        raise BybitError(PARAM_ERROR, "params error: category only support linear or inverse")
    symbol = text(p, "symbol")
    if category == "inverse":
        return {"category": category, "list": [], "nextPageCursor": ""}
    if symbol and symbol not in INSTRUMENTS:
        raise BybitError(PARAM_ERROR, "params error: symbol invalid")
    rows = [
        {
            "id": 1,
            "symbol": sym,
            "riskLimitValue": "2000000",
            "maintenanceMargin": s(inst.maintenance_rate),
            "initialMargin": s(1 / inst.max_leverage),
            "isLowestRisk": 1,
            "maxLeverage": f"{inst.max_leverage:.2f}",
            "mmDeduction": "",
        }
        for sym, inst in INSTRUMENTS.items()
        if not symbol or sym == symbol
    ]
    return {"category": category, "list": rows, "nextPageCursor": ""}


def funding_history(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """``/v5/market/funding/history``: settled rates, newest first, ``limit`` 1..200 (default
    200). As Bybit: ``startTime`` alone is an error, ``endTime`` alone lists back from it, neither
    lists back from now; only settlements the replayed market has reached are listed."""
    linear_only(p)
    symbol = symbol_param(p)
    start, end = integer(p, "startTime"), integer(p, "endTime")
    if start is not None and end is None:
        raise BybitError(PARAM_ERROR, "params error: endTime is required when startTime is set")
    n = limit(p, 200, 200)
    top = min(eng.processed_to, end if end is not None else eng.processed_to)
    earliest = eng.market.first_time(symbol)
    t = top - top % FUNDING_INTERVAL_MS
    rows: list[dict[str, str]] = []
    while len(rows) < n and t >= earliest and (start is None or t >= start):
        rows.append(
            {
                "symbol": symbol,
                "fundingRate": s(funding_rate(symbol, t)),
                "fundingRateTimestamp": str(t),
            }
        )
        t -= FUNDING_INTERVAL_MS
    return {"category": "linear", "list": rows}


def book_data(eng: Engine, symbol: str, depth: int) -> dict[str, Any]:
    inst = INSTRUMENTS[symbol]
    now = eng.clock.now()
    bids, asks = orderbook.levels(inst, eng.last[symbol], now, depth=depth)
    return {
        "s": symbol,
        "b": [[bybit_json.s(px), bybit_json.s(q)] for px, q in bids],
        "a": [[bybit_json.s(px), bybit_json.s(q)] for px, q in asks],
        "ts": now,
        "u": now // 100,
        "seq": now // 10,
        "cts": now,
    }


def orderbook_snapshot(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    symbol = symbol_param(p)
    return book_data(eng, symbol, limit(p, 25, 500))


def recent_trade(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    linear_only(p)
    symbol = symbol_param(p)
    n = limit(p, 500, 1000)
    trades = [t for t in reversed(eng.public_trades_log) if t[0] == symbol][:n]
    return {
        "category": "linear",
        "list": [
            {
                "execId": tid,
                "symbol": sym,
                "price": bybit_json.s(px),
                "size": bybit_json.s(q),
                "side": side,
                "time": str(ts),
                "isBlockTrade": False,
                "isRPITrade": False,
                "seq": str(ts // 10),
            }
            for sym, ts, side, q, px, tid in trades
        ],
    }
