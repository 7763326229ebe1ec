"""Thin tasks for accounts: the daily re-validation of stored exchange keys, the session purge."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.validate_exchange_keys")
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


@shared_task(name="accounts.validate_exchange_key")
def validate_exchange_key(connection_id: int) -> str:
    """Validate one key; the status and any refusal land on the connection (and the audit trail)."""
    from accounts.services.exchange_keys import exchange_key_validate
    from exchange.models import ExchangeConnection

    connection = (
        ExchangeConnection.objects.select_related("tenant").filter(pk=connection_id).first()
    )
    if connection is None or connection.status == ExchangeConnection.Status.RETIRED:
        return "skipped"
    return str(exchange_key_validate(connection=connection).status)


@shared_task(name="accounts.purge_expired_sessions")
def purge_expired_sessions() -> int:
    """Beat, hourly: expired sessions leave the database."""
    from accounts.services.sessions import session_purge_expired

    return session_purge_expired()
