"""Master-key rotation: re-wrap every sealed secret under the keyring's active (first) key.

Only the small wrapped data key of each value changes; the values themselves are not decrypted
into memory longer than the re-wrap needs. After a run reports nothing left on the old key id, the
old key can be removed from ``TRADINGSVC_MASTER_KEYS``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from allauth.mfa.models import Authenticator
from django.db import transaction

from accounts.adapters import MFA_ASSOCIATED_DATA
from accounts.models import OperatorTOTPDevice
from exchange.credentials import credentials_rewrap
from exchange.models import ExchangeConnection
from tradingsvc.lib.crypto import rewrap, sealed_key_id, settings_keyring

_MFA_SEALED_FIELDS = ("secret", "seed")


@dataclass
class RewrapReport:
    rewrapped: Counter[str] = field(default_factory=Counter)
    key_ids_in_use: Counter[str] = field(default_factory=Counter)


@transaction.atomic
def master_key_rewrap_all() -> RewrapReport:
    """Re-wrap exchange keys, operator TOTP keys and client MFA secrets; count what uses each key."""
    keyring = settings_keyring()
    report = RewrapReport()

    for connection in ExchangeConnection.objects.select_for_update().exclude(api_key_sealed=""):
        if credentials_rewrap(connection):
            report.rewrapped["exchange keys"] += 1
        report.key_ids_in_use[sealed_key_id(connection.api_key_sealed)] += 1

    for device in OperatorTOTPDevice.objects.select_for_update():
        new = rewrap(keyring, device.key_sealed, associated_data=device._associated_data())
        if new != device.key_sealed:
            device.key_sealed = new
            device.save(update_fields=["key_sealed"])
            report.rewrapped["operator TOTP devices"] += 1
        report.key_ids_in_use[sealed_key_id(device.key_sealed)] += 1

    for authenticator in Authenticator.objects.select_for_update():
        changed = False
        for name in _MFA_SEALED_FIELDS:
            value = authenticator.data.get(name)
            if isinstance(value, str) and value.startswith("v1:"):
                new = rewrap(keyring, value, associated_data=MFA_ASSOCIATED_DATA)
                changed |= new != value
                authenticator.data[name] = new
                report.key_ids_in_use[sealed_key_id(new)] += 1
        if changed:
            authenticator.save(update_fields=["data"])
            report.rewrapped["client 2FA secrets"] += 1
    return report
