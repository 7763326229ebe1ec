"""Thin Celery tasks of the exchange app; the work is in ``exchange.services``."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="exchange.sync_candles", acks_late=True)
def sync_candles() -> dict[str, int]:
    """Beat, every minute: each (environment, symbol, interval) in use fetched once."""
    from exchange.services.candles import candles_sync

    results = candles_sync()
    return {f"{e}:{s}:{i}": r.stored + r.repaired for (e, s, i), r in results.items()}


@shared_task(
    name="exchange.sync_candles_pair", bind=True, acks_late=True, max_retries=10, ignore_result=True
)
def sync_candles_pair(self: Any, *, environment: str, symbol: str, interval: str) -> int:
    """One pair now (a bot started on it, or its tick found history missing).

    If a beat run holds the pair's lock, that run may have read the depth before this request's
    reader subscribed: try again shortly rather than wait for the next beat.
    """
    from exchange.gateway import ExchangeGateway
    from exchange.services.candles import candles_sync_pair

    result = candles_sync_pair(
        ExchangeGateway.public(environment),
        environment=environment,
        symbol=symbol,
        interval=interval,
    )
    if result.skipped:
        raise self.retry(countdown=2)
    return result.stored + result.repaired


@shared_task(name="exchange.refresh_instruments", acks_late=True)
def refresh_instruments() -> int:
    """Beat, hourly: instrument rules of the default market-data environment, shared via Redis.

    Other environments' rules are fetched on first use (``instrument_get``) and kept as long.
    """
    from exchange.instruments import instruments_refresh
    from exchange.services.candles import market_data_environment

    return len(instruments_refresh(market_data_environment()))
