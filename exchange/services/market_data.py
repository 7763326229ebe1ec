"""The registry of market data in use: bots subscribe (symbol, interval), the sync fetches each once."""

from __future__ import annotations

from django.conf import settings

from exchange.models import MarketDataSubscription

INTERVALS = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")


def market_data_subscribe(*, symbol: str, interval: str, consumer: str) -> MarketDataSubscription:
    """Claim a pair for ``consumer`` (e.g. ``"bot:42"``); claiming twice is harmless."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    sub, _ = MarketDataSubscription.objects.get_or_create(
        symbol=symbol.upper(), interval=interval, consumer=consumer
    )
    return sub


def market_data_unsubscribe(*, consumer: str, symbol: str = "", interval: str = "") -> int:
    """Drop a consumer's claims (all, or one pair); returns how many were removed."""
    qs = MarketDataSubscription.objects.filter(consumer=consumer)
    if symbol:
        qs = qs.filter(symbol=symbol.upper())
    if interval:
        qs = qs.filter(interval=interval)
    deleted, _ = qs.delete()
    return deleted


def market_data_in_use() -> list[tuple[str, str]]:
    """Distinct (symbol, interval) pairs: subscriptions plus ``EXCHANGE_MARKET_DATA_ALWAYS``."""
    pairs = set(
        MarketDataSubscription.objects.values_list("symbol", "interval").distinct().order_by()
    )
    pairs |= {(s, i) for s, i in getattr(settings, "EXCHANGE_MARKET_DATA_ALWAYS", [])}
    return sorted(pairs)
