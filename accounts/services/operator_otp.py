"""Enrolling operator staff in admin two-factor authentication."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import transaction

from accounts.models import OperatorTOTPDevice, User
from accounts.services.audit import audit_record


@dataclass(frozen=True)
class OperatorEnrolment:
    """What the staff member types into an authenticator app; shown once."""

    device: OperatorTOTPDevice
    base32_secret: str
    otpauth_uri: str


@transaction.atomic
def operator_totp_enrol(
    *, user: User, actor: User | None = None, name: str = "authenticator"
) -> OperatorEnrolment:
    """Replace the staff member's devices with a new confirmed TOTP device."""
    if not user.is_staff:
        raise ValueError("Only operator staff use the admin second factor.")
    OperatorTOTPDevice.objects.filter(user=user).delete()
    device = OperatorTOTPDevice.objects.create(user=user, name=name, confirmed=True, key_sealed="-")
    device.set_key(os.urandom(20))
    device.save(update_fields=["key_sealed"])
    secret = device.base32_key()
    issuer = quote(settings.OTP_TOTP_ISSUER)
    uri = f"otpauth://totp/{issuer}:{quote(user.email)}?secret={secret}&issuer={issuer}&digits=6&period=30"
    audit_record(action="mfa.operator_enrolled", actor=actor or user, target=user)
    return OperatorEnrolment(device=device, base32_secret=secret, otpauth_uri=uri)
