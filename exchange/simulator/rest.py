"""The /v5 REST endpoints: public market data and signed account/trade calls.

Each handler takes the parsed parameters and returns the ``result`` object; the server wraps it in
Bybit's envelope, applies auth, rate limits and faults (see server.py).
"""

from __future__ import annotations

from exchange.simulator.errors import MarginModeError
from exchange.simulator.rest_account import (
    account_info,
    coin_query_info,
    fee_rate,
    query_api,
    quick_repayment,
    set_margin_mode,
    transaction_log,
    wallet_balance,
    wallet_item,
)
from exchange.simulator.rest_common import Handler, Params
from exchange.simulator.rest_market import (
    book_data,
    funding_history,
    instruments_info,
    kline,
    mark_price_kline,
    market_time,
    orderbook_snapshot,
    recent_trade,
    risk_limit,
    ticker_data,
    tickers,
)
from exchange.simulator.rest_trade import (
    BatchResult,
    add_margin,
    amend_batch,
    cancel_batch,
    closed_pnl,
    create_batch,
    execution_list,
    order_amend,
    order_cancel,
    order_cancel_all,
    order_create,
    order_history,
    order_realtime,
    position_list,
    set_auto_add_margin,
    set_leverage,
    switch_mode,
    trading_stop,
)

__all__ = [
    "PRIVATE",
    "PUBLIC",
    "BatchResult",
    "Handler",
    "MarginModeError",
    "Params",
    "book_data",
    "ticker_data",
    "wallet_item",
]

PUBLIC: dict[tuple[str, str], Handler] = {
    ("GET", "/v5/market/time"): market_time,
    ("GET", "/v5/market/kline"): kline,
    ("GET", "/v5/market/mark-price-kline"): mark_price_kline,
    ("GET", "/v5/market/index-price-kline"): mark_price_kline,
    ("GET", "/v5/market/tickers"): tickers,
    ("GET", "/v5/market/instruments-info"): instruments_info,
    ("GET", "/v5/market/orderbook"): orderbook_snapshot,
    ("GET", "/v5/market/recent-trade"): recent_trade,
    ("GET", "/v5/market/risk-limit"): risk_limit,
    ("GET", "/v5/market/funding/history"): funding_history,
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
    ("POST", "/v5/position/add-margin"): (add_margin, True),
    ("POST", "/v5/position/set-auto-add-margin"): (set_auto_add_margin, True),
    ("GET", "/v5/asset/coin/query-info"): (coin_query_info, False),
}
