"""Candle sync: each (symbol, interval) in use fetched once per run, backfilled, gaps repaired.

One run (``candles_sync``, the ``exchange.sync_candles`` beat task) does, per pair in use:
1. *head*: one ``/v5/market/kline`` page (newest first). The newest candle may still be forming, so
   it is dropped; the rest are upserted. If the page does not reach back to what is stored, it pages
   further back until it does (a long outage).
2. *backfill* on first use: pages back until ``EXCHANGE_CANDLE_BACKFILL`` candles are stored.
3. *gap repair*: in the last ``EXCHANGE_CANDLE_REPAIR_WINDOW`` intervals, any missing start is
   fetched by range. Starts the exchange itself has no candle for are remembered (Redis) so they are
   not asked for again every minute.
A Redis lock per pair makes a second, overlapping run (a redelivered task) skip the pair instead of
fetching it twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings

from exchange.gateway import ExchangeGateway
from exchange.models import Candle
from exchange.services.market_data import market_data_in_use
from exchange.types import Kline

log = structlog.stdlib.get_logger(__name__)
PAGE = 1000
HEAD = 200  # a steady-state run needs a few candles; 200 covers a 3-hour outage of 1m
MINUTE = timedelta(minutes=1)


def interval_delta(interval: str) -> timedelta | None:
    """The length of an interval; None for months (not fixed)."""
    if interval.isdigit():
        return int(interval) * MINUTE
    return {"D": timedelta(days=1), "W": timedelta(days=7)}.get(interval)


@dataclass
class SyncResult:
    fetches: int = 0
    stored: int = 0
    repaired: int = 0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


def market_data_environment() -> str:
    return str(getattr(settings, "EXCHANGE_MARKET_DATA_ENVIRONMENT", "mainnet"))


def candles_sync(*, gateway: ExchangeGateway | None = None) -> dict[tuple[str, str], SyncResult]:
    """Sync every pair in use once; returns what was done per pair."""
    gw = gateway or ExchangeGateway.public(market_data_environment())
    results: dict[tuple[str, str], SyncResult] = {}
    for symbol, interval in market_data_in_use():
        results[(symbol, interval)] = candles_sync_pair(gw, symbol, interval)
    return results


def _upsert(klines: Iterable[Kline]) -> int:
    rows = [
        Candle(
            symbol=k.symbol,
            interval=k.interval,
            start=k.start,
            open=k.open,
            high=k.high,
            low=k.low,
            close=k.close,
            volume=k.volume,
            turnover=k.turnover,
        )
        for k in klines
    ]
    if not rows:
        return 0
    Candle.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["symbol", "interval", "start"],
        update_fields=["open", "high", "low", "close", "volume", "turnover"],
    )
    return len(rows)


def candles_sync_pair(gw: ExchangeGateway, symbol: str, interval: str) -> SyncResult:
    """One pair: head fetch (+ backfill on first use), then gap repair. Locked per pair."""
    from tradingsvc.lib.redis import get_redis

    result = SyncResult()
    redis = get_redis()
    lock_key = f"xcandles:lock:{symbol}:{interval}"
    if not redis.set(lock_key, "1", nx=True, ex=50):
        result.skipped = True
        return result
    try:
        _sync_head(gw, symbol, interval, result)
        _repair_gaps(gw, symbol, interval, result)
    finally:
        redis.delete(lock_key)
    log.info(
        "exchange.candles_synced",
        symbol=symbol,
        interval=interval,
        fetches=result.fetches,
        stored=result.stored,
        repaired=result.repaired,
    )
    return result


def _sync_head(gw: ExchangeGateway, symbol: str, interval: str, result: SyncResult) -> None:
    qs = Candle.objects.filter(symbol=symbol, interval=interval)
    last = qs.order_by("-start").values_list("start", flat=True).first()
    want = int(settings.EXCHANGE_CANDLE_BACKFILL) if last is None else HEAD
    step = interval_delta(interval)
    page = gw.klines(symbol, interval, limit=min(PAGE, want + 1))
    result.fetches += 1
    if not page:
        return
    closed = page[:-1]  # the newest is still forming
    if last is not None:
        closed = [k for k in closed if k.start >= last]  # older rows are stored already
    result.stored += _upsert(closed)
    have = len(closed)
    oldest = page[0].start
    # Page back while this is a backfill that wants more, or the head did not reach what we had.
    while page and (
        (last is None and have < want) or (last is not None and oldest > last and step is not None)
    ):
        end = oldest - timedelta(milliseconds=1)
        size = PAGE if last is not None else min(PAGE, max(want - have, 1))
        page = gw.klines(symbol, interval, end=end, limit=size)
        result.fetches += 1
        if not page:
            break
        result.stored += _upsert(page)
        have += len(page)
        oldest = page[0].start


def _repair_gaps(gw: ExchangeGateway, symbol: str, interval: str, result: SyncResult) -> None:
    from tradingsvc.lib.redis import get_redis

    step = interval_delta(interval)
    if step is None:
        return
    window = int(settings.EXCHANGE_CANDLE_REPAIR_WINDOW)
    starts = list(
        Candle.objects.filter(symbol=symbol, interval=interval)
        .order_by("-start")
        .values_list("start", flat=True)[:window]
    )
    if len(starts) < 2:
        return
    have = set(starts)
    holes_key = f"xcandles:holes:{symbol}:{interval}"
    known_holes = {int(x) for x in get_redis().smembers(holes_key)}
    missing: list[datetime] = []
    t = min(starts)
    newest = max(starts)
    while t < newest:
        if t not in have and int(t.timestamp()) not in known_holes:
            missing.append(t)
        t += step
    for first, last in _runs(missing, step):
        cursor = first
        while cursor <= last:
            span_end = min(last, cursor + step * (PAGE - 1))
            page = gw.klines(symbol, interval, start=cursor, end=span_end, limit=PAGE)
            result.fetches += 1
            got = [k for k in page if first <= k.start <= last]
            result.repaired += _upsert(got)
            found = {k.start for k in got}
            absent = [
                int(m.timestamp()) for m in missing if cursor <= m <= span_end and m not in found
            ]
            if absent:
                get_redis().sadd(holes_key, *absent)
                get_redis().expire(holes_key, 7 * 86400)
            cursor = span_end + step


def _runs(starts: list[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """Consecutive starts grouped into (first, last) ranges."""
    runs: list[tuple[datetime, datetime]] = []
    for s in starts:
        if runs and s - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    return runs
