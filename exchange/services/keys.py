"""Connecting, validating, rotating and deleting a tenant's Bybit API keys.

A key is checked with Bybit *before* it is stored: it must be known on the chosen environment, able
to trade derivatives, not read-only, and unable to withdraw funds. Each refusal says what to change
on Bybit's key page. The same checks run daily on stored keys (``exchange.tasks``).

Rotation never leaves a moment without a working key: the new key is connected and validated
first, then everything that used the old key is switched to the new one in one transaction, and
only then is the old key retired (its sealed material erased). The apps above the exchange hear of
a check and of a rotation through ``exchange.events`` (the engine watches keys and moves its bots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.events import AccountsEvent, ExportPart, TenantErasing, TenantExporting
from accounts.models import Tenant, User
from accounts.services.audit import audit_record
from exchange.credentials import Credentials, credentials_seal
from exchange.errors import AuthenticationError, ExchangeError, PermissionDeniedError
from exchange.events import key_checked, key_replaced
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeConnection, ExchangeEnvironment
from exchange.types import ApiKeyInfo
from tradingsvc.lib.secret import Secret

_KEY_SHAPE = re.compile(r"^[A-Za-z0-9]{10,64}$")


class KeyRefused(Exception):
    """The key cannot be used; the message tells the client what to do."""


class KeyCheckUnavailable(KeyRefused):
    """Bybit could not be asked right now (outage, rate limit): says nothing about the key."""


@dataclass(frozen=True)
class KeyCheck:
    info: ApiKeyInfo


def _check_shape(api_key: str, api_secret: str) -> None:
    if not _KEY_SHAPE.match(api_key):
        raise KeyRefused(
            _("The API key should be 10 to 64 letters and digits: copy it again from Bybit.")
        )
    if not _KEY_SHAPE.match(api_secret):
        raise KeyRefused(
            _("The API secret should be 10 to 64 letters and digits: copy it again from Bybit.")
        )


def _refusal_for(info: ApiKeyInfo) -> str | None:
    """Why a key that Bybit accepted is still not acceptable here, or None."""
    if info.can_withdraw:
        return _(
            "This key can withdraw funds. For your safety we only accept keys without the Withdraw "
            "permission: create a new key on Bybit with Withdraw unticked."
        )
    if info.read_only:
        return _(
            "This key is read-only, and bots need to place orders. Create a key with 'Read-Write' "
            "and the Derivatives (Contract) trading permission."
        )
    if not info.can_trade_derivatives:
        return _(
            "This key cannot trade derivatives. Edit it on Bybit and tick the Contract / Derivatives "
            "Orders and Positions permissions."
        )
    return None


def check_key_with_exchange(environment: str, credentials: Credentials) -> KeyCheck:
    """Ask Bybit what the key may do and read the wallet; raise ``KeyRefused`` with the reason."""
    gateway = ExchangeGateway.for_credentials(environment, credentials)
    try:
        info = gateway.api_key_info()
        gateway.wallet_balance()
    except AuthenticationError as exc:
        raise KeyRefused(exc.message) from None
    except PermissionDeniedError:
        raise KeyRefused(
            _(
                "Bybit refused to show this key's details or wallet. Give the key the Wallet and "
                "Contract permissions, or create a new one."
            )
        ) from None
    except ExchangeError as exc:
        raise KeyCheckUnavailable(
            _("The key could not be checked right now (%(reason)s). Try again in a few minutes.")
            % {"reason": exc.message}
        ) from None
    reason = _refusal_for(info)
    if reason:
        raise KeyRefused(reason)
    return KeyCheck(info=info)


def _apply_info(connection: ExchangeConnection, info: ApiKeyInfo) -> None:
    from exchange.services.accounts import AccountOwnedElsewhere, exchange_account_attach

    if connection.account_id and info.uid != connection.exchange_uid:
        raise KeyRefused(_("This key now answers for another Bybit account; add it as a new key."))
    connection.exchange_uid = info.uid
    try:
        exchange_account_attach(connection=connection)
    except AccountOwnedElsewhere:
        raise KeyRefused(
            _("This Bybit account is already connected to another client of tradingsvc.")
        ) from None
    connection.permissions = info.permissions
    connection.read_only = info.read_only
    connection.can_withdraw = info.can_withdraw
    connection.key_expires_at = info.expires_at
    connection.last_validated_at = timezone.now()


def exchange_key_connect(
    *,
    tenant: Tenant,
    environment: str,
    api_key: str,
    api_secret: str,
    label: str = "",
    by: User,
    request: HttpRequest | None = None,
) -> ExchangeConnection:
    """Validate a new key with Bybit, then store it sealed. Nothing is stored when it is refused."""
    if environment not in ExchangeEnvironment.values or (
        environment not in settings.EXCHANGE_CLIENT_ENVIRONMENTS
    ):
        raise KeyRefused(_("Choose where this key was created: mainnet, testnet or demo trading."))
    api_key, api_secret = api_key.strip(), api_secret.strip()
    _check_shape(api_key, api_secret)
    credentials = Credentials(api_key=Secret(api_key), api_secret=Secret(api_secret))
    check = check_key_with_exchange(environment, credentials)
    with transaction.atomic():
        connection = ExchangeConnection.objects.create(
            tenant=tenant,
            environment=environment,
            label=label.strip()[:100],
            status=ExchangeConnection.Status.ACTIVE,
        )
        credentials_seal(connection, api_key=api_key, api_secret=api_secret)
        _apply_info(connection, check.info)
        connection.save()
        audit_record(
            action="key.added",
            actor=by,
            tenant=tenant,
            target=connection,
            request=request,
            after={
                "environment": environment,
                "key_last4": connection.api_key_last4,
                "permissions": check.info.permissions,
            },
        )
    return connection


def exchange_key_validate(
    *, connection: ExchangeConnection, by: User | None = None, request: HttpRequest | None = None
) -> ExchangeConnection:
    """Re-check a stored key (daily, or on the client's request) and record the outcome."""
    from exchange.credentials import credentials_open

    before = {"status": connection.status, "last_error": connection.last_error}
    try:
        check = check_key_with_exchange(connection.environment, credentials_open(connection))
    except KeyCheckUnavailable as exc:
        # An outage is not a verdict on the key: keep its status, note why it was not checked.
        connection.last_error = str(exc)
    except KeyRefused as exc:
        connection.status = ExchangeConnection.Status.INVALID
        connection.last_error = str(exc)
        connection.last_validated_at = timezone.now()
    else:
        try:
            _apply_info(connection, check.info)
        except KeyRefused as exc:
            connection.status = ExchangeConnection.Status.INVALID
            connection.last_error = str(exc)
        else:
            connection.status = ExchangeConnection.Status.ACTIVE
            connection.last_error = ""
    connection.save()
    after = {"status": connection.status, "last_error": connection.last_error}
    key_checked(connection)
    if after != before:
        audit_record(
            action="key.validated",
            actor=by,
            tenant=connection.tenant,
            target=connection,
            request=request,
            before=before,
            after=after,
        )
    return connection


@transaction.atomic
def exchange_key_retire(
    *, connection: ExchangeConnection, by: User, request: HttpRequest | None = None
) -> None:
    """Delete a key: its sealed material is erased; the row stays for history (orders, audit)."""
    connection.api_key_sealed = connection.api_secret_sealed = ""
    connection.status = ExchangeConnection.Status.RETIRED
    connection.save()
    audit_record(
        action="key.deleted",
        actor=by,
        tenant=connection.tenant,
        target=connection,
        request=request,
        after={"key_last4": connection.api_key_last4},
    )


@transaction.atomic
def exchange_key_replace(
    *,
    old: ExchangeConnection,
    new: ExchangeConnection,
    by: User,
    request: HttpRequest | None = None,
) -> int:
    """Switch everything that uses ``old`` to the already validated ``new``, then retire ``old``.

    What uses a key is up to the handlers of ``exchange.events.KeyReplaced`` (bots do);
    history such as executions stays with the key that produced it. Returns the rows switched.
    """
    if old.tenant_id != new.tenant_id or old.environment != new.environment:
        raise KeyRefused(
            _("The new key must belong to the same account and environment as the old one.")
        )
    if old.exchange_uid and new.exchange_uid and old.exchange_uid != new.exchange_uid:
        raise KeyRefused(
            _(
                "The new key belongs to another Bybit account (UID %(new_uid)s, not %(old_uid)s). "
                "Rotate with a key of the same Bybit account."
            )
            % {"new_uid": new.exchange_uid, "old_uid": old.exchange_uid}
        )
    if new.status != ExchangeConnection.Status.ACTIVE:
        raise KeyRefused(_("Validate the new key first: only a working key can take over."))
    switched = key_replaced(old=old, new=new)
    audit_record(
        action="key.rotated",
        actor=by,
        tenant=old.tenant,
        target=new,
        request=request,
        before={"key_last4": old.api_key_last4},
        after={"key_last4": new.api_key_last4, "switched": switched},
    )
    exchange_key_retire(connection=old, by=by, request=request)
    return switched


def on_accounts_event(event: AccountsEvent) -> ExportPart | None:
    """``ACCOUNTS_EVENT_HANDLERS``: an erased tenant's keys lose their sealed material and label;
    an export lists the keys with chosen fields (never a secret)."""
    if isinstance(event, TenantErasing):
        ExchangeConnection.objects.filter(tenant=event.tenant).update(
            api_key_sealed="",
            api_secret_sealed="",
            label="",
            status=ExchangeConnection.Status.RETIRED,
        )
    elif isinstance(event, TenantExporting):
        return ExportPart(files={"exchange_keys": _keys_export_rows(event.tenant)})
    return None


def _keys_export_rows(tenant: Tenant) -> list[dict[str, object]]:
    return [
        {
            "environment": c.environment,
            "label": c.label,
            "key_last4": c.api_key_last4,
            "status": c.status,
            "permissions": c.permissions,
            "read_only": c.read_only,
            "last_validated": c.last_validated_at,
            "expires": c.key_expires_at,
            "created": c.created_at,
        }
        for c in ExchangeConnection.objects.filter(tenant=tenant)
    ]
