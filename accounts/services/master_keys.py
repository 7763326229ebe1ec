"""Master-key rotation over the one registry of sealed fields.

``SEALED_FIELDS`` lists every database column that holds a sealed value, with the associated
data its seal is bound to. The rotation walks that list and nothing else, so a sealed column
missing from it would stay on the old key while the command says the old key can go;
``tests/accounts/test_master_keys.py`` therefore finds every sealed value actually in the
database (by its format, in every table) and fails for one whose column is not listed here.

Only the small wrapped data key of each value changes; the values themselves are not decrypted.
After a run reports nothing left on an old key id, that key can be removed from
``TRADINGSVC_MASTER_KEYS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from django.apps import apps
from django.db import models, transaction

from accounts.adapters import MFA_SEALED_KEYS, mfa_row_associated_data
from tradingsvc.lib.crypto import FORMAT_VERSION, rewrap, sealed_key_id, settings_keyring


@dataclass(frozen=True)
class SealedField:
    """One column holding sealed values: a text column, or keys inside a JSON column."""

    model: str  # app_label.ModelName
    column: str
    label: str  # what the operator reads in the report
    associated_data: Callable[[Any], str]
    json_keys: tuple[str, ...] = ()

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)


SEALED_FIELDS: tuple[SealedField, ...] = (
    SealedField(
        "exchange.ExchangeConnection",
        "api_key_sealed",
        "exchange keys",
        lambda row: row.associated_data("api_key"),
    ),
    SealedField(
        "exchange.ExchangeConnection",
        "api_secret_sealed",
        "exchange secrets",
        lambda row: row.associated_data("api_secret"),
    ),
    SealedField(
        "accounts.OperatorTOTPDevice",
        "key_sealed",
        "operator TOTP devices",
        lambda row: row._associated_data(),
    ),
    SealedField(
        "bots.NotificationSettings",
        "webhook_secret_sealed",
        "webhook signing secrets",
        lambda row: row.associated_data(),
    ),
    SealedField(
        "mfa.Authenticator",
        "data",
        "client 2FA secrets",
        mfa_row_associated_data,
        json_keys=MFA_SEALED_KEYS,
    ),
)


def is_sealed(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(f"{FORMAT_VERSION}:")


@dataclass
class RewrapReport:
    rewrapped: Counter[str] = field(default_factory=Counter)
    key_ids_in_use: Counter[str] = field(default_factory=Counter)


def _rewrap_row(sealed: SealedField, row: Any, report: RewrapReport) -> bool:
    keyring = settings_keyring()
    aad = sealed.associated_data(row)
    changed = False
    if sealed.json_keys:
        data = getattr(row, sealed.column) or {}
        for key in sealed.json_keys:
            value = data.get(key)
            if is_sealed(value):
                new = rewrap(keyring, value, associated_data=aad)
                changed |= new != value
                data[key] = new
                report.key_ids_in_use[sealed_key_id(new)] += 1
        return changed
    value = getattr(row, sealed.column)
    if not is_sealed(value):
        return False
    new = rewrap(keyring, value, associated_data=aad)
    setattr(row, sealed.column, new)
    report.key_ids_in_use[sealed_key_id(new)] += 1
    return bool(new != value)


@transaction.atomic
def master_key_rewrap_all() -> RewrapReport:
    """Re-wrap every value of every registered sealed field under the active key; count what
    each key id still holds."""
    report = RewrapReport()
    for sealed in SEALED_FIELDS:
        model = sealed.model_class()
        for row in model._default_manager.select_for_update().order_by("pk").iterator():
            if _rewrap_row(sealed, row, report):
                row.save(update_fields=[sealed.column])
                report.rewrapped[sealed.label] += 1
    return report
