"""Candle sync: each (environment, symbol, interval) in use fetched once per run, kept deep and whole.

One run (``candles_sync``, the ``exchange.sync_candles`` beat task) does, per pair in use, against
that pair's own environment:
1. *head*: one ``/v5/market/kline`` page (newest first). The newest candle may still be forming, so
   it is dropped; the rest are upserted. If the page does not reach back to what is stored, it pages
   further back until it does (a long outage).
2. *depth and gaps*: the window of the pair's depth (``market_data_depth``: its readers' largest
   lookback plus a margin, never fewer than ``EXCHANGE_CANDLE_BACKFILL``), or of
   ``EXCHANGE_CANDLE_REPAIR_WINDOW`` if that is longer, ending at the newest stored candle, must hold
   every start. Missing starts are fetched by range, 1,000 candles per request (Bybit's and the
   simulator's page). This one step is both the first-use backfill and gap repair, so it does not
   matter who stored the first candle (the public stream often does): depth is counted as stored
   candles in the window, not as "is anything stored".
3. Starts a range fetch comes back without are ones the exchange itself has no candle for (before
   the listing, an exchange outage): recorded once as a ``CandleHole`` (admin shows them, one log
   line says so) and never asked for again.
A Redis lock per pair makes a second, overlapping run (a redelivered task, a bot's start request)
skip the pair instead of fetching it twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from exchange.gateway import ExchangeGateway
from exchange.models import Candle, CandleHole
from exchange.selectors import candle_holes, in_holes
from exchange.services.market_data import (
    market_data_default_environment,
    market_data_depth,
    market_data_in_use,
)
from exchange.types import Kline, interval_delta

log = structlog.stdlib.get_logger(__name__)
PAGE = 1000
HEAD = 200  # a steady-state run needs a few candles; 200 covers a 3-hour outage of 1m

__all__ = [
    "PAGE",
    "SyncResult",
    "candles_store",
    "candles_sync",
    "candles_sync_pair",
    "interval_delta",
    "market_data_environment",
]


@dataclass
class SyncResult:
    fetches: int = 0
    stored: int = 0
    repaired: int = 0
    holes: int = 0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


def market_data_environment() -> str:
    """The environment of bots without a key (kept for callers of the single-environment days)."""
    return market_data_default_environment()


def candles_sync(
    *, gateways: dict[str, ExchangeGateway] | None = None
) -> dict[tuple[str, str, str], SyncResult]:
    """Sync every pair in use once, each from its own environment; returns what was done per pair."""
    made = dict(gateways or {})
    results: dict[tuple[str, str, str], SyncResult] = {}
    for environment, symbol, interval in market_data_in_use():
        gw = made.get(environment)
        if gw is None:
            gw = made[environment] = ExchangeGateway.public(environment)
        results[(environment, symbol, interval)] = candles_sync_pair(
            gw, environment=environment, symbol=symbol, interval=interval
        )
    return results


def candles_store(environment: str, klines: Iterable[Kline]) -> int:
    """Upsert closed candles of one environment (a re-fetch corrects a candle, never doubles it)."""
    rows = [
        Candle(
            environment=environment,
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
        unique_fields=["environment", "symbol", "interval", "start"],
        update_fields=["open", "high", "low", "close", "volume", "turnover"],
    )
    return len(rows)


def candles_sync_pair(
    gw: ExchangeGateway, *, environment: str, symbol: str, interval: str
) -> SyncResult:
    """One pair: head fetch, then the depth window made whole. Locked per pair."""
    from tradingsvc.lib.redis import get_redis

    result = SyncResult()
    redis = get_redis()
    lock_key = f"xcandles:lock:{environment}:{symbol}:{interval}"
    if not redis.set(lock_key, "1", nx=True, ex=50):
        result.skipped = True
        return result
    try:
        depth = market_data_depth(environment=environment, symbol=symbol, interval=interval)
        _sync_head(gw, environment, symbol, interval, depth, result)
        _fill_window(gw, environment, symbol, interval, depth, result)
    finally:
        redis.delete(lock_key)
    log.info(
        "exchange.candles_synced",
        environment=environment,
        symbol=symbol,
        interval=interval,
        fetches=result.fetches,
        stored=result.stored,
        repaired=result.repaired,
        holes=result.holes,
    )
    return result


def _sync_head(
    gw: ExchangeGateway, env: str, symbol: str, interval: str, depth: int, result: SyncResult
) -> None:
    qs = Candle.objects.filter(environment=env, symbol=symbol, interval=interval)
    last = qs.order_by("-start").values_list("start", flat=True).first()
    want = depth if last is None else HEAD
    step = interval_delta(interval)
    page = gw.klines(symbol, interval, limit=min(PAGE, want + 1))
    result.fetches += 1
    if not page:
        return
    closed = page[:-1]  # the newest is still forming
    if last is not None:
        closed = [k for k in closed if k.start >= last]  # older rows are stored already
    result.stored += candles_store(env, closed)
    oldest = page[0].start
    # Page back while the head did not reach what we had (a long outage).
    while page and last is not None and step is not None and oldest > last:
        page = gw.klines(symbol, interval, end=oldest - timedelta(milliseconds=1), limit=PAGE)
        result.fetches += 1
        if not page:
            break
        result.stored += candles_store(env, [k for k in page if k.start >= last])
        oldest = page[0].start


def _fill_window(
    gw: ExchangeGateway, env: str, symbol: str, interval: str, depth: int, result: SyncResult
) -> None:
    """Every start of the window ending at the newest candle stored, fetched by range if missing."""
    step = interval_delta(interval)
    if step is None:
        return
    window = max(depth, int(settings.EXCHANGE_CANDLE_REPAIR_WINDOW))
    qs = Candle.objects.filter(environment=env, symbol=symbol, interval=interval)
    newest = qs.order_by("-start").values_list("start", flat=True).first()
    if newest is None:
        return
    since = newest - step * (window - 1)
    have = set(qs.filter(start__gte=since).values_list("start", flat=True))
    holes = candle_holes(environment=env, symbol=symbol, interval=interval, since=since)
    missing: list[datetime] = []
    t = since
    while t < newest:
        if t not in have and not in_holes(t, holes):
            missing.append(t)
        t += step
    for first, last in _runs(missing, step):
        cursor = first
        absent: list[datetime] = []  # over the whole run: a hole spanning pages is one hole
        while cursor <= last:
            span_end = min(last, cursor + step * (PAGE - 1))
            page = gw.klines(symbol, interval, start=cursor, end=span_end, limit=PAGE)
            result.fetches += 1
            got = [k for k in page if cursor <= k.start <= span_end]
            result.repaired += candles_store(env, got)
            found = {k.start for k in got}
            absent += [m for m in missing if cursor <= m <= span_end and m not in found]
            cursor = span_end + step
        for hole_first, hole_last in _runs(absent, step):
            _hole_record(env, symbol, interval, hole_first, hole_last, result)


def _hole_record(
    env: str, symbol: str, interval: str, first: datetime, last: datetime, result: SyncResult
) -> None:
    """Remember starts the exchange has no candle for; the operator is told once (log + admin)."""
    try:
        with transaction.atomic():
            CandleHole.objects.create(
                environment=env,
                symbol=symbol,
                interval=interval,
                first_start=first,
                last_start=last,
            )
    except IntegrityError:
        CandleHole.objects.filter(
            environment=env,
            symbol=symbol,
            interval=interval,
            first_start=first,
            last_start__lt=last,
        ).update(last_start=last)
        return
    result.holes += 1
    log.warning(
        "exchange.candles_missing_at_exchange",
        environment=env,
        symbol=symbol,
        interval=interval,
        first=first.isoformat(),
        last=last.isoformat(),
    )


def _runs(starts: list[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """Consecutive starts grouped into (first, last) ranges."""
    runs: list[tuple[datetime, datetime]] = []
    for s in starts:
        if runs and s - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    return runs
