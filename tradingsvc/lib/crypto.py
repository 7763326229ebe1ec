"""Envelope encryption for secrets at rest (exchange keys, TOTP secrets): AES-256-GCM.

Each value gets a fresh 256-bit data key. The data key encrypts the value, and the active master
key (key-encryption key) wraps the data key. Both steps bind the caller's *associated data* (for
example ``tenant=<uuid>|connection=<id>|field=api_secret``), so a ciphertext copied to another
row, tenant or field fails to decrypt instead of decrypting into the wrong place.

Sealed format (ASCII, one string): ``v1:<master key id>:<wrapped data key b64>:<sealed value b64>``.
The master key id lets the keyring hold several keys during a rotation: new values use the first
key, old values still open with theirs, and ``rewrap`` moves a value to the active key without
touching its data.

The keyring comes from ``TRADINGSVC_MASTER_KEYS``: comma-separated ``<id>:<base64 of 32 bytes>``
entries, the first one active. Master keys are held as :class:`Secret`, so they never print.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradingsvc.lib.secret import Secret

FORMAT_VERSION = "v1"
_NONCE_BYTES = 12
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class CryptoError(Exception):
    """Base class; messages never contain key material or plaintext."""


class KeyringError(CryptoError):
    """The keyring configuration is missing or malformed."""


class DecryptionError(CryptoError):
    """A sealed value could not be opened: wrong row/tenant/field, unknown key, or tampering."""


@dataclass(frozen=True)
class MasterKey:
    """One key-encryption key with its id."""

    key_id: str
    key: Secret

    def aesgcm(self) -> AESGCM:
        return AESGCM(base64.b64decode(self.key.reveal()))


class Keyring:
    """The master keys in order; the first seals new values."""

    def __init__(self, keys: list[MasterKey]) -> None:
        if not keys:
            raise KeyringError("The keyring is empty: set TRADINGSVC_MASTER_KEYS.")
        ids = [k.key_id for k in keys]
        if len(set(ids)) != len(ids):
            raise KeyringError("TRADINGSVC_MASTER_KEYS lists the same key id twice.")
        self._keys = {k.key_id: k for k in keys}
        self.active = keys[0]

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def get(self, key_id: str) -> MasterKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise DecryptionError(
                f"The value was sealed with master key '{key_id}', which is not in the keyring."
            ) from None

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """Parse ``id:base64key,id2:base64key``; errors name the entry, never the key."""
        keys = []
        for position, entry in enumerate(filter(None, (e.strip() for e in spec.split(","))), 1):
            key_id, sep, encoded = entry.partition(":")
            if not sep or not _KEY_ID_RE.match(key_id):
                raise KeyringError(
                    f"TRADINGSVC_MASTER_KEYS entry {position} must look like '<id>:<base64 key>' "
                    "with an id of letters, digits, '-' or '_'."
                )
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(f"Master key '{key_id}' is not valid base64.") from None
            if len(raw) != 32:
                raise KeyringError(f"Master key '{key_id}' must be 32 bytes (AES-256).")
            keys.append(MasterKey(key_id=key_id, key=Secret(encoded)))
        return cls(keys)


def generate_master_key_entry(key_id: str) -> str:
    """A new ``<id>:<base64>`` keyring entry (for setup scripts and key rotation)."""
    if not _KEY_ID_RE.match(key_id):
        raise KeyringError("A key id is 1-32 letters, digits, '-' or '_'.")
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(keyring: Keyring, plaintext: str, *, associated_data: str) -> str:
    """Encrypt ``plaintext`` under a fresh data key wrapped by the active master key."""
    data_key = AESGCM.generate_key(bit_length=256)
    aad = associated_data.encode()
    value_nonce = os.urandom(_NONCE_BYTES)
    sealed_value = value_nonce + AESGCM(data_key).encrypt(value_nonce, plaintext.encode(), aad)
    wrapped = _wrap(keyring.active, data_key, aad)
    return f"{FORMAT_VERSION}:{keyring.active.key_id}:{_b64(wrapped)}:{_b64(sealed_value)}"


def open_sealed(keyring: Keyring, token: str, *, associated_data: str) -> Secret:
    """Decrypt a sealed value; the plaintext comes back as a :class:`Secret`."""
    key_id, wrapped, sealed_value = _split(token)
    aad = associated_data.encode()
    data_key = _unwrap(keyring.get(key_id), wrapped, aad)
    try:
        plaintext = AESGCM(data_key).decrypt(
            sealed_value[:_NONCE_BYTES], sealed_value[_NONCE_BYTES:], aad
        )
    except InvalidTag:
        raise DecryptionError(
            "The value does not belong here (another row, tenant or field) or was altered."
        ) from None
    return Secret(plaintext.decode())


def rewrap(keyring: Keyring, token: str, *, associated_data: str) -> str:
    """Re-wrap the data key under the active master key; the value's own ciphertext is kept."""
    key_id, wrapped, sealed_value = _split(token)
    aad = associated_data.encode()
    if key_id == keyring.active.key_id:
        return token
    data_key = _unwrap(keyring.get(key_id), wrapped, aad)
    new_wrapped = _wrap(keyring.active, data_key, aad)
    return f"{FORMAT_VERSION}:{keyring.active.key_id}:{_b64(new_wrapped)}:{_b64(sealed_value)}"


def sealed_key_id(token: str) -> str:
    """The id of the master key a sealed value is wrapped with."""
    return _split(token)[0]


def _wrap(master: MasterKey, data_key: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + master.aesgcm().encrypt(nonce, data_key, aad)


def _unwrap(master: MasterKey, wrapped: bytes, aad: bytes) -> bytes:
    try:
        return master.aesgcm().decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionError(
            "The value does not belong here (another row, tenant or field), "
            f"or master key '{master.key_id}' is not the one it was sealed with."
        ) from None


def _split(token: str) -> tuple[str, bytes, bytes]:
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != FORMAT_VERSION:
        raise DecryptionError("The stored value is not in the sealed format (v1:<key id>:...).")
    try:
        return parts[1], _unb64(parts[2]), _unb64(parts[3])
    except (binascii.Error, ValueError):
        raise DecryptionError("The stored value is corrupted (bad base64).") from None


def settings_keyring() -> Keyring:
    """The keyring configured in ``settings.TRADINGSVC_MASTER_KEYS`` (parsed once per process)."""
    from django.conf import settings

    spec: str = settings.TRADINGSVC_MASTER_KEYS
    cached = _keyring_cache.get(spec)
    if cached is None:
        cached = Keyring.parse(spec)
        _keyring_cache.clear()
        _keyring_cache[spec] = cached
    return cached


_keyring_cache: dict[str, Keyring] = {}
