"""allauth and axes hooks: signup only through invitations, TOTP secrets sealed at rest."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from tradingsvc.lib.crypto import open_sealed, seal, settings_keyring

# allauth's encrypt/decrypt hooks carry no row context, so the binding is to the purpose only.
MFA_ASSOCIATED_DATA = "allauth.mfa"


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """allauth's own signup page is closed: people join through ``accounts.views.invitations``."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    """Seals TOTP secrets and recovery-code seeds with the project's envelope encryption."""

    def encrypt(self, text: str) -> str:
        return seal(settings_keyring(), text, associated_data=MFA_ASSOCIATED_DATA)

    def decrypt(self, encrypted_text: str) -> str:
        return open_sealed(
            settings_keyring(), encrypted_text, associated_data=MFA_ASSOCIATED_DATA
        ).reveal()


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The login being attempted, from allauth (``email``/``login``) or the admin form (``username``)."""
    credentials = credentials or {}
    for source in (credentials, request.POST):
        for field in ("email", "login", "username"):
            value = source.get(field)
            if value:
                return str(value).strip().lower()
    return ""
