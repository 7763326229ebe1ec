"""allauth and axes hooks: signup only through invitations, TOTP secrets sealed at rest."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from tradingsvc.lib.crypto import open_sealed, seal, settings_keyring

# allauth's encrypt/decrypt hooks carry no row context. A value is therefore first sealed for the
# purpose only, and re-sealed bound to its user when the row is saved (``mfa_bind_to_user``); the
# flag below marks rows sealed that way. Opening one needs the user id of the row it was read
# from, which ``mfa_note_loaded`` records as the row is loaded: a secret copied into another
# user's row is then opened with that other user's id and fails.
MFA_ASSOCIATED_DATA = "allauth.mfa"
MFA_USER_BOUND_FLAG = "sealed_for_user"
MFA_SEALED_KEYS = ("secret", "seed")
_LOADED_FOR_USER: OrderedDict[str, int] = OrderedDict()
_LOADED_LIMIT = 10_000


def mfa_associated_data(user_id: int | None) -> str:
    """The associated data of a client's 2FA secret: the purpose and the user it belongs to."""
    return MFA_ASSOCIATED_DATA if user_id is None else f"{MFA_ASSOCIATED_DATA}|user={user_id}"


def mfa_row_associated_data(authenticator: Any) -> str:
    """What an ``Authenticator`` row's sealed values are bound to (older rows: the purpose)."""
    bound = (authenticator.data or {}).get(MFA_USER_BOUND_FLAG)
    return mfa_associated_data(authenticator.user_id if bound else None)


def mfa_note_loaded(authenticator: Any) -> None:
    """Remember which user's row each sealed value was read from (post_init)."""
    data = authenticator.data or {}
    if not data.get(MFA_USER_BOUND_FLAG) or authenticator.user_id is None:
        return
    for key in MFA_SEALED_KEYS:
        value = data.get(key)
        if isinstance(value, str):
            _LOADED_FOR_USER[value] = authenticator.user_id
            _LOADED_FOR_USER.move_to_end(value)
    while len(_LOADED_FOR_USER) > _LOADED_LIMIT:
        _LOADED_FOR_USER.popitem(last=False)


def mfa_bind_to_user(authenticator: Any) -> None:
    """Re-seal a new row's values bound to its user (pre_save)."""
    data = authenticator.data or {}
    if data.get(MFA_USER_BOUND_FLAG) or authenticator.user_id is None:
        return
    keyring = settings_keyring()
    for key in MFA_SEALED_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.startswith("v1:"):
            plain = open_sealed(keyring, value, associated_data=MFA_ASSOCIATED_DATA)
            data[key] = seal(
                keyring, plain.reveal(), associated_data=mfa_associated_data(authenticator.user_id)
            )
    data[MFA_USER_BOUND_FLAG] = True
    authenticator.data = data
    mfa_note_loaded(authenticator)


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """allauth's own signup page is closed: people join through ``accounts.views.invitations``."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    """Seals TOTP secrets and recovery-code seeds with the project's envelope encryption, bound
    to their user (see ``mfa_bind_to_user``)."""

    def encrypt(self, text: str) -> str:
        return seal(settings_keyring(), text, associated_data=MFA_ASSOCIATED_DATA)

    def decrypt(self, encrypted_text: str) -> str:
        user_id = _LOADED_FOR_USER.get(encrypted_text)
        return open_sealed(
            settings_keyring(), encrypted_text, associated_data=mfa_associated_data(user_id)
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
