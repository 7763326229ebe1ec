"""Thin Celery tasks of the exchange app; the work is in ``exchange.services``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exchange.sync_candles", acks_late=True)
def sync_candles() -> dict[str, int]:
    """Beat, every minute: each (symbol, interval) in use fetched once (locked per pair)."""
    from exchange.services.candles import candles_sync

    results = candles_sync()
    return {f"{s}:{i}": r.stored + r.repaired for (s, i), r in results.items()}


@shared_task(name="exchange.refresh_instruments", acks_late=True)
def refresh_instruments() -> int:
    """Beat, hourly: instrument rules of the market-data environment, shared through Redis."""
    from exchange.instruments import instruments_refresh
    from exchange.services.candles import market_data_environment

    return len(instruments_refresh(market_data_environment()))
