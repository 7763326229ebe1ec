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


@shared_task(name="exchange.validate_exchange_keys")
def validate_exchange_keys() -> int:
    """Beat, daily: enqueue one validation per stored key (each a separate, retry-safe task)."""
    from exchange.models import ExchangeConnection

    ids = list(
        ExchangeConnection.objects.exclude(status=ExchangeConnection.Status.RETIRED).values_list(
            "id", flat=True
        )
    )
    for connection_id in ids:
        validate_exchange_key.delay(connection_id=connection_id)
    return len(ids)


@shared_task(name="exchange.validate_exchange_key")
def validate_exchange_key(connection_id: int) -> str:
    """Validate one key; the status and any refusal land on the connection (and the audit trail)."""
    from exchange.models import ExchangeConnection
    from exchange.services.keys import exchange_key_validate

    connection = (
        ExchangeConnection.objects.select_related("tenant").filter(pk=connection_id).first()
    )
    if connection is None or connection.status == ExchangeConnection.Status.RETIRED:
        return "skipped"
    return str(exchange_key_validate(connection=connection).status)
