"""The registry of market data in use: consumers claim (environment, symbol, interval) pairs.

Candles are kept per *market-data environment*. A connection's environment names where its orders
go; its prices come from ``market_environment(environment)``: the same, except Bybit demo trading,
whose public data is mainnet's (Bybit's demo hosts serve private streams only, and its docs say the
public data is identical to mainnet's ``stream.bybit.com``), so demo bots share mainnet's candles.
A bot with no key (dry run) reads ``EXCHANGE_MARKET_DATA_ENVIRONMENT``.

A consumer claims a pair with the ``lookback`` it reads per decision; the sync keeps the largest
lookback of a pair's consumers (plus ``EXCHANGE_CANDLE_DEPTH_MARGIN``, never fewer than
``EXCHANGE_CANDLE_BACKFILL``) stored without gaps. A claim on a pair that lacks that depth asks
for a sync of the pair at once (after commit), so a new bot does not wait for the next beat.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from exchange.models import MarketDataSubscription

INTERVALS = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")
MarketPair = tuple[str, str, str]  # (market-data environment, symbol, interval)

# Where each environment's prices come from (see the module docstring).
_PRICES_FROM = {"demo": "mainnet"}


def market_environment(environment: str) -> str:
    """The environment whose candles a connection on ``environment`` decides on."""
    return _PRICES_FROM.get(environment, environment)


def market_data_default_environment() -> str:
    """Where a bot without a key (dry run) reads its candles."""
    return market_environment(str(getattr(settings, "EXCHANGE_MARKET_DATA_ENVIRONMENT", "mainnet")))


def market_data_subscribe(
    *, environment: str, symbol: str, interval: str, consumer: str, lookback: int = 0
) -> MarketDataSubscription:
    """Claim a pair for ``consumer`` (e.g. ``"bot:42"``); claiming again updates the lookback.

    When the pair's stored history is shorter than its readers need, a sync of the pair is
    enqueued once this transaction commits.
    """
    from exchange.selectors import candles_depth_lacking

    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    env = market_environment(environment)
    sub, _ = MarketDataSubscription.objects.update_or_create(
        environment=env,
        symbol=symbol.upper(),
        interval=interval,
        consumer=consumer,
        defaults={"lookback": max(int(lookback), 0)},
    )
    depth = market_data_depth(environment=env, symbol=sub.symbol, interval=interval)
    if candles_depth_lacking(environment=env, symbol=sub.symbol, interval=interval, depth=depth):
        transaction.on_commit(
            partial(candles_request_sync, environment=env, symbol=sub.symbol, interval=interval)
        )
    return sub


def candles_request_sync(*, environment: str, symbol: str, interval: str) -> bool:
    """Enqueue a sync of one pair now; a second request within a few seconds is dropped."""
    from exchange.tasks import sync_candles_pair
    from tradingsvc.lib.redis import get_redis

    key = f"xcandles:requested:{environment}:{symbol}:{interval}"
    if not get_redis().set(key, "1", nx=True, ex=5):
        return False
    sync_candles_pair.delay(environment=environment, symbol=symbol, interval=interval)
    return True


def market_data_unsubscribe(*, consumer: str, symbol: str = "", interval: str = "") -> int:
    """Drop a consumer's claims (all, or one pair); returns how many were removed."""
    qs = MarketDataSubscription.objects.filter(consumer=consumer)
    if symbol:
        qs = qs.filter(symbol=symbol.upper())
    if interval:
        qs = qs.filter(interval=interval)
    deleted, _ = qs.delete()
    return deleted


def market_data_in_use() -> list[MarketPair]:
    """Distinct (environment, symbol, interval): subscriptions plus ``EXCHANGE_MARKET_DATA_ALWAYS``.

    ``EXCHANGE_MARKET_DATA_ALWAYS`` holds (symbol, interval) pairs of the default environment, or
    (environment, symbol, interval) triples.
    """
    pairs: set[MarketPair] = set(
        MarketDataSubscription.objects.values_list("environment", "symbol", "interval")
        .distinct()
        .order_by()
    )
    for entry in getattr(settings, "EXCHANGE_MARKET_DATA_ALWAYS", []):
        if len(entry) == 3:
            pairs.add((market_environment(entry[0]), entry[1], entry[2]))
        else:
            pairs.add((market_data_default_environment(), entry[0], entry[1]))
    return sorted(pairs)


def market_data_depth(*, environment: str, symbol: str, interval: str) -> int:
    """How many consecutive closed candles the pair keeps: its readers' largest lookback + margin.

    Never fewer than ``EXCHANGE_CANDLE_BACKFILL`` (charts and new bots read that much).
    """
    largest = MarketDataSubscription.objects.filter(
        environment=environment, symbol=symbol, interval=interval
    ).aggregate(m=Max("lookback"))["m"]
    margin = int(settings.EXCHANGE_CANDLE_DEPTH_MARGIN)
    return max(int(settings.EXCHANGE_CANDLE_BACKFILL), int(largest or 0) + margin)
