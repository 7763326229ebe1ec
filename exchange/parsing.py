"""Bybit v5 JSON (``result`` objects) into the gateway's dataclasses. No pybit, no Django."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from exchange.errors import ExchangeRequestError
from exchange.types import (
    ApiKeyInfo,
    ClosedPnl,
    CoinBalance,
    Execution,
    Instrument,
    Kline,
    Order,
    Position,
    Ticker,
    TransactionLogEntry,
    WalletBalance,
    dec,
    ms_to_dt,
)

# Bybit's permission groups that let a key trade USDT perpetuals (docs/v5/user/apikey-info).
DERIVATIVE_TRADE_PERMISSIONS = {"ContractTrade", "UnifiedTrade"}


def api_key_info(r: dict[str, Any]) -> ApiKeyInfo:
    perms = {k: [str(v) for v in vs] for k, vs in (r.get("permissions") or {}).items()}
    read_only = str(r.get("readOnly", "0")) == "1"
    wallet = perms.get("Wallet", [])
    can_withdraw = "Withdraw" in wallet
    trade_perms = set(perms.get("ContractTrade", [])) | set(perms.get("Derivatives", []))
    can_trade = not read_only and ("Order" in trade_perms or bool(perms.get("UnifiedTrade")))
    expires = r.get("expiredAt") or ""
    expires_at = None
    # deadlineDay -2 (or the 1970 epoch) is Bybit's "never expires".
    if expires and str(r.get("deadlineDay", "")) != "-2" and not str(expires).startswith("1970"):
        try:
            expires_at = datetime.fromisoformat(str(expires).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            expires_at = None
    return ApiKeyInfo(
        uid=str(r.get("userID", "")),
        api_key_last4=str(r.get("apiKey", ""))[-4:],
        read_only=read_only,
        permissions=perms,
        can_withdraw=can_withdraw,
        can_trade_derivatives=can_trade,
        expires_at=expires_at,
        ips=[str(ip) for ip in (r.get("ips") or [])],
        note=str(r.get("note", "")),
        unified=bool(r.get("uta", 1)) or bool(r.get("unified", 1)),
    )


def wallet_balance(r: dict[str, Any]) -> WalletBalance:
    accounts = r.get("list") or [{}]
    a = accounts[0]
    coins = {
        c["coin"]: CoinBalance(
            coin=c["coin"],
            equity=dec(c.get("equity")),
            wallet_balance=dec(c.get("walletBalance")),
            available_to_withdraw=dec(c.get("availableToWithdraw")),
            unrealised_pnl=dec(c.get("unrealisedPnl")),
            usd_value=dec(c.get("usdValue")),
        )
        for c in a.get("coin") or []
    }
    return WalletBalance(
        total_equity=dec(a.get("totalEquity")),
        total_wallet_balance=dec(a.get("totalWalletBalance")),
        total_available_balance=dec(a.get("totalAvailableBalance")),
        total_margin_balance=dec(a.get("totalMarginBalance")),
        total_initial_margin=dec(a.get("totalInitialMargin")),
        coins=coins,
    )


def instrument(r: dict[str, Any]) -> Instrument:
    pf, lf, lev = r["priceFilter"], r["lotSizeFilter"], r["leverageFilter"]
    return Instrument(
        symbol=r["symbol"],
        status=r.get("status", ""),
        base_coin=r.get("baseCoin", ""),
        quote_coin=r.get("quoteCoin", ""),
        tick_size=dec(pf["tickSize"]),
        min_price=dec(pf.get("minPrice")),
        max_price=dec(pf.get("maxPrice")),
        qty_step=dec(lf["qtyStep"]),
        min_qty=dec(lf["minOrderQty"]),
        max_qty=dec(lf["maxOrderQty"]),
        max_market_qty=dec(lf.get("maxMktOrderQty") or lf["maxOrderQty"]),
        min_notional=dec(lf.get("minNotionalValue")),
        min_leverage=dec(lev.get("minLeverage") or 1),
        max_leverage=dec(lev["maxLeverage"]),
        leverage_step=dec(lev.get("leverageStep") or "0.01"),
    )


def kline(symbol: str, interval: str, row: list[str]) -> Kline:
    start = ms_to_dt(row[0])
    assert start is not None  # noqa: S101 - Bybit always sends a start
    return Kline(
        symbol=symbol,
        interval=interval,
        start=start,
        open=dec(row[1]),
        high=dec(row[2]),
        low=dec(row[3]),
        close=dec(row[4]),
        volume=dec(row[5]),
        turnover=dec(row[6]) if len(row) > 6 else dec(0),
    )


def ticker(r: dict[str, Any]) -> Ticker:
    return Ticker(
        symbol=r["symbol"],
        last_price=dec(r.get("lastPrice")),
        mark_price=dec(r.get("markPrice")),
        index_price=dec(r.get("indexPrice")),
        bid1_price=dec(r.get("bid1Price")),
        ask1_price=dec(r.get("ask1Price")),
        volume_24h=dec(r.get("volume24h")),
        funding_rate=dec(r.get("fundingRate")),
    )


def order(r: dict[str, Any]) -> Order:
    return Order(
        order_id=r.get("orderId", ""),
        order_link_id=r.get("orderLinkId", ""),
        symbol=r.get("symbol", ""),
        side=r.get("side", ""),
        order_type=r.get("orderType", ""),
        status=r.get("orderStatus", ""),
        price=dec(r.get("price")),
        qty=dec(r.get("qty")),
        cum_exec_qty=dec(r.get("cumExecQty")),
        cum_exec_value=dec(r.get("cumExecValue")),
        cum_exec_fee=dec(r.get("cumExecFee")),
        avg_price=dec(r.get("avgPrice")),
        leaves_qty=dec(r.get("leavesQty")),
        time_in_force=r.get("timeInForce", ""),
        reduce_only=bool(r.get("reduceOnly", False)),
        reject_reason=r.get("rejectReason", ""),
        created_at=ms_to_dt(r.get("createdTime")),
        updated_at=ms_to_dt(r.get("updatedTime")),
        stop_order_type=r.get("stopOrderType", "") or "",
    )


def execution(r: dict[str, Any]) -> Execution:
    exec_time = ms_to_dt(r.get("execTime"))
    if exec_time is None:
        raise ExchangeRequestError(
            f"Bybit sent a fill without a time (execId {r.get('execId', '?')})."
        )
    return Execution(
        exec_id=r["execId"],
        order_id=r.get("orderId", ""),
        order_link_id=r.get("orderLinkId", ""),
        symbol=r.get("symbol", ""),
        side=r.get("side", ""),
        exec_price=dec(r.get("execPrice")),
        exec_qty=dec(r.get("execQty")),
        exec_value=dec(r.get("execValue")),
        exec_fee=dec(r.get("execFee")),
        fee_rate=dec(r.get("feeRate")),
        exec_type=r.get("execType", ""),
        is_maker=bool(r.get("isMaker", False)),
        closed_size=dec(r.get("closedSize")),
        exec_time=exec_time,
        raw=r,
    )


def position(r: dict[str, Any]) -> Position:
    return Position(
        symbol=r.get("symbol", ""),
        side=r.get("side", "") if r.get("side") not in ("None",) else "",
        size=dec(r.get("size")),
        avg_price=dec(r.get("avgPrice") or r.get("entryPrice")),
        mark_price=dec(r.get("markPrice")),
        leverage=dec(r.get("leverage")),
        unrealised_pnl=dec(r.get("unrealisedPnl")),
        cum_realised_pnl=dec(r.get("cumRealisedPnl")),
        liq_price=dec(r.get("liqPrice")),
        take_profit=dec(r.get("takeProfit")),
        stop_loss=dec(r.get("stopLoss")),
        updated_at=ms_to_dt(r.get("updatedTime")),
    )


def closed_pnl(r: dict[str, Any]) -> ClosedPnl:
    return ClosedPnl(
        order_id=r.get("orderId", ""),
        symbol=r.get("symbol", ""),
        side=r.get("side", ""),
        qty=dec(r.get("qty")),
        avg_entry_price=dec(r.get("avgEntryPrice")),
        avg_exit_price=dec(r.get("avgExitPrice")),
        closed_pnl=dec(r.get("closedPnl")),
        created_at=ms_to_dt(r.get("createdTime")),
    )


def transaction(r: dict[str, Any]) -> TransactionLogEntry:
    return TransactionLogEntry(
        id=str(r.get("id", "")),
        symbol=r.get("symbol", ""),
        type=r.get("type", ""),
        side=r.get("side", ""),
        qty=dec(r.get("qty")),
        trade_price=dec(r.get("tradePrice")),
        fee=dec(r.get("fee")),
        cash_flow=dec(r.get("cashFlow")),
        change=dec(r.get("change")),
        cash_balance=dec(r.get("cashBalance")),
        order_id=r.get("orderId", ""),
        order_link_id=r.get("orderLinkId", ""),
        trade_id=r.get("tradeId", ""),
        transaction_time=ms_to_dt(r.get("transactionTime")),
    )
