"""Reads of the exchange app for the rest of tradingsvc (bots, reports, views).

Bots read market data here, never from the exchange: candles kept by the sync and the streams, and
the latest ticker the public stream wrote to Redis.
"""

from __future__ import annotations

import json
from datetime import datetime

from exchange import parsing
from exchange.models import Candle, Execution
from exchange.types import Kline, Ticker


def candles_recent(
    *, symbol: str, interval: str, limit: int = 200, until: datetime | None = None
) -> list[Kline]:
    """The latest ``limit`` closed candles (up to ``until``), oldest first, as ``Kline``s."""
    qs = Candle.objects.filter(symbol=symbol, interval=interval)
    if until is not None:
        qs = qs.filter(start__lte=until)
    rows = list(qs.order_by("-start")[:limit])
    rows.reverse()
    return [
        Kline(
            symbol=c.symbol,
            interval=c.interval,
            start=c.start,
            open=c.open,
            high=c.high,
            low=c.low,
            close=c.close,
            volume=c.volume,
            turnover=c.turnover,
        )
        for c in rows
    ]


def ticker_latest(symbol: str) -> Ticker | None:
    """The newest ticker the public stream saw (kept 120 s), or None when it is stale."""
    from tradingsvc.lib.redis import get_redis

    raw = get_redis().get(f"xticker:{symbol}")
    return parsing.ticker(json.loads(raw)) if raw else None


def executions_for_order(*, connection_id: int, order_link_id: str) -> list[Execution]:
    """Stored fills of one order (by its orderLinkId), oldest first."""
    return list(
        Execution.objects.filter(connection_id=connection_id, order_link_id=order_link_id).order_by(
            "exec_time", "exec_id"
        )
    )
