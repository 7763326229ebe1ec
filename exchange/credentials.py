"""Sealing and opening a connection's API key pair: the only place key plaintext is handled.

Callers get :class:`Credentials` holding :class:`Secret` values; the gateway reveals them only to
sign a request. Nothing here logs, and errors never include key material.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.models import ExchangeConnection
from tradingsvc.lib.crypto import open_sealed, rewrap, seal, settings_keyring
from tradingsvc.lib.redaction import register_secret
from tradingsvc.lib.secret import Secret

API_KEY_FIELD = "api_key"
API_SECRET_FIELD = "api_secret"  # noqa: S105 - a field name, not a password


@dataclass(frozen=True)
class Credentials:
    """An API key pair; both halves print as ``[redacted]``."""

    api_key: Secret
    api_secret: Secret


def credentials_seal(connection: ExchangeConnection, *, api_key: str, api_secret: str) -> None:
    """Seal a key pair into a saved connection (it needs its id, which the seal is bound to)."""
    if connection.pk is None:
        raise ValueError("Save the connection before sealing keys into it.")
    keyring = settings_keyring()
    register_secret(api_key)  # masked in every log line and Sentry event from here on
    register_secret(api_secret)
    connection.api_key_sealed = seal(
        keyring, api_key, associated_data=connection.associated_data(API_KEY_FIELD)
    )
    connection.api_secret_sealed = seal(
        keyring, api_secret, associated_data=connection.associated_data(API_SECRET_FIELD)
    )
    connection.api_key_last4 = api_key[-4:]
    connection.save(
        update_fields=["api_key_sealed", "api_secret_sealed", "api_key_last4", "updated_at"]
    )


def credentials_open(connection: ExchangeConnection) -> Credentials:
    """Open a connection's key pair; raises ``DecryptionError`` if it was moved or altered."""
    keyring = settings_keyring()
    return Credentials(
        api_key=open_sealed(
            keyring,
            connection.api_key_sealed,
            associated_data=connection.associated_data(API_KEY_FIELD),
        ),
        api_secret=open_sealed(
            keyring,
            connection.api_secret_sealed,
            associated_data=connection.associated_data(API_SECRET_FIELD),
        ),
    )


def credentials_rewrap(connection: ExchangeConnection) -> bool:
    """Move both sealed values to the active master key; True if anything changed."""
    keyring = settings_keyring()
    new_key = rewrap(
        keyring,
        connection.api_key_sealed,
        associated_data=connection.associated_data(API_KEY_FIELD),
    )
    new_secret = rewrap(
        keyring,
        connection.api_secret_sealed,
        associated_data=connection.associated_data(API_SECRET_FIELD),
    )
    if (new_key, new_secret) == (connection.api_key_sealed, connection.api_secret_sealed):
        return False
    connection.api_key_sealed, connection.api_secret_sealed = new_key, new_secret
    connection.save(update_fields=["api_key_sealed", "api_secret_sealed", "updated_at"])
    return True
