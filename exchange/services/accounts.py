"""Exchange accounts: which Bybit account (UID) a key reaches, and which key speaks for it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from exchange.models import ExchangeAccount, ExchangeConnection


class AccountOwnedElsewhere(ValueError):
    """The key's Bybit account is already connected by another tenant.

    Two tenants on one account would each count its fills, flows and equity; the books of both
    would be wrong, so the second connection is refused.
    """


def exchange_account_attach(*, connection: ExchangeConnection) -> ExchangeAccount:
    """Tie a key whose UID validation has learnt to its account (created on first sight)."""
    if not connection.exchange_uid:
        raise ValueError("a key is tied to an account only once its UID is known")
    try:
        with transaction.atomic():
            account, _ = ExchangeAccount.objects.get_or_create(
                environment=connection.environment,
                exchange_uid=connection.exchange_uid,
                defaults={"tenant_id": connection.tenant_id},
            )
    except IntegrityError:  # created meanwhile by a concurrent validation
        account = ExchangeAccount.objects.get(
            environment=connection.environment, exchange_uid=connection.exchange_uid
        )
    if account.tenant_id != connection.tenant_id:
        raise AccountOwnedElsewhere(connection.exchange_uid)
    connection.account = account
    return account


def account_speaking_connection(account_id: int) -> ExchangeConnection | None:
    """The key that speaks for an account: its newest working one.

    Streams, catch-ups, snapshots and reconciliation use one key per account, so rotating or
    adding a key never doubles the work nor what it records.
    """
    return (
        ExchangeConnection.objects.filter(
            account_id=account_id, status=ExchangeConnection.Status.ACTIVE
        )
        .order_by("-created_at", "-pk")
        .first()
    )
