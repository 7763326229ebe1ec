"""Reads of the exchange app for the rest of tradingsvc (bots, reports, views).

Bots read market data here, never from the exchange: candles kept by the sync and the streams per
market-data environment (``exchange.services.market_data.market_environment``), and the latest
ticker the public stream wrote to Redis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from exchange import parsing
from exchange.models import Candle, CandleHole
from exchange.types import Kline, Ticker, interval_delta


def candles_recent(
    *,
    environment: str,
    symbol: str,
    interval: str,
    limit: int = 200,
    until: datetime | None = None,
) -> list[Kline]:
    """The latest ``limit`` closed candles (up to ``until``), oldest first, as ``Kline``s."""
    qs = Candle.objects.filter(environment=environment, symbol=symbol, interval=interval)
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


def candle_latest(*, environment: str, symbol: str, interval: str) -> Candle | None:
    """The newest stored closed candle of a pair."""
    return (
        Candle.objects.filter(environment=environment, symbol=symbol, interval=interval)
        .order_by("-start")
        .first()
    )


def candle_holes(
    *, environment: str, symbol: str, interval: str, since: datetime
) -> list[tuple[datetime, datetime]]:
    """(first, last) starts the exchange has no candle for, ending at or after ``since``."""
    return list(
        CandleHole.objects.filter(
            environment=environment, symbol=symbol, interval=interval, last_start__gte=since
        )
        .order_by("first_start")
        .values_list("first_start", "last_start")
    )


def in_holes(start: datetime, holes: list[tuple[datetime, datetime]]) -> bool:
    return any(first <= start <= last for first, last in holes)


def candles_depth_lacking(*, environment: str, symbol: str, interval: str, depth: int) -> bool:
    """Whether the last ``depth`` intervals hold fewer stored candles than ``depth``.

    Counted as stored candles in the window ending at the newest one (plus starts the exchange
    itself has no candle for), not as "is anything stored": a pair whose first candle came from the
    public stream has one candle and lacks depth.
    """
    latest = candle_latest(environment=environment, symbol=symbol, interval=interval)
    step = interval_delta(interval)
    if latest is None:
        return True
    if step is None:
        return False
    since = latest.start - step * (depth - 1)
    stored = Candle.objects.filter(
        environment=environment, symbol=symbol, interval=interval, start__gte=since
    ).count()
    if stored >= depth:
        return False
    holes = candle_holes(environment=environment, symbol=symbol, interval=interval, since=since)
    covered = sum(
        int((min(last, latest.start) - max(first, since)) / step) + 1
        for first, last in holes
        if last >= since and first <= latest.start
    )
    return stored + covered < depth


@dataclass(frozen=True)
class CandleRun:
    """How much consecutive history ends at a pair's newest candle (``candle_run``)."""

    latest: datetime | None  # the newest stored candle's start
    run: int  # consecutive candles ending at ``latest``, counted up to the ``need`` asked for
    missing_at: datetime | None  # the missing start before the run (None when the run is enough)
    inside: bool  # older candles are stored beyond ``missing_at``: a gap, not where history starts
    exchange_has_none: bool  # ``missing_at`` is a start the exchange itself has no candle for


def candle_run(*, environment: str, symbol: str, interval: str, need: int) -> CandleRun:
    """Consecutive stored candles ending at the newest one, counted up to ``need``."""
    step = interval_delta(interval) or timedelta(0)
    starts = list(
        Candle.objects.filter(environment=environment, symbol=symbol, interval=interval)
        .order_by("-start")
        .values_list("start", flat=True)[: max(need, 1)]
    )
    if not starts:
        return CandleRun(None, 0, None, False, False)
    run = 1
    while run < len(starts) and starts[run - 1] - starts[run] == step:
        run += 1
    if run >= need:
        return CandleRun(starts[0], run, None, False, False)
    missing_at = starts[run - 1] - step
    inside = (
        run < len(starts)
        or Candle.objects.filter(
            environment=environment, symbol=symbol, interval=interval, start__lt=missing_at
        ).exists()
    )
    holes = candle_holes(
        environment=environment, symbol=symbol, interval=interval, since=missing_at
    )
    return CandleRun(starts[0], run, missing_at, inside, in_holes(missing_at, holes))


def ticker_latest(symbol: str, *, environment: str = "mainnet") -> Ticker | None:
    """The newest ticker the public stream saw (kept 120 s), or None when it is stale."""
    from tradingsvc.lib.redis import get_redis

    raw = get_redis().get(ticker_key(environment, symbol))
    return parsing.ticker(json.loads(raw)) if raw else None


def ticker_key(environment: str, symbol: str) -> str:
    return f"xticker:{environment}:{symbol}"
