"""Small helpers over allauth's MFA for the demo and tests: current codes, enrolment."""

from __future__ import annotations

import time

from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, generate_totp_secret, hotp_value

from accounts.models import User

TOTP_PERIOD_SECONDS = 30


def totp_code_for_secret(secret: str, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for ``secret`` (base32) at ``at``."""
    counter = int(at if at is not None else time.time()) // TOTP_PERIOD_SECONDS
    return str(format_hotp_value(hotp_value(secret, counter)))


def client_totp_secret(user: User) -> str | None:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return None
    return str(get_adapter().decrypt(authenticator.data["secret"]))


def client_totp_code(user: User) -> str | None:
    secret = client_totp_secret(user)
    return totp_code_for_secret(secret) if secret else None


def client_totp_activate(user: User) -> str:
    """Enrol a user in TOTP directly (demo seeding and tests); returns the base32 secret."""
    from allauth.mfa.totp.internal.auth import TOTP

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return str(secret)
