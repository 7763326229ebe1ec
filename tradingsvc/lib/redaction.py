"""Removes secrets from anything that leaves the process: log lines, Sentry events, task records.

Three nets, because each alone misses something:

1. **Key names.** A value stored under a name that looks secret (``api_secret``, ``password``,
   ``X-BAPI-SIGN``...) is replaced, at any depth of a dict/list.
2. **Known values.** Every :class:`tradingsvc.lib.secret.Secret` registers its plaintext here when it
   is created, so the same characters are masked wherever they turn up, even inside free text such
   as an exception message or an f-string.
3. **Shapes.** ``name=value`` / ``"name": "value"`` pairs with a secret-looking name inside text.

Sentry's default scrubber matches exact key names only and was seen sending a local called
``api_secret`` in clear (see ``docs/decisions.md``); this module closes that gap for Sentry and logs
alike.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Substrings that make a key name secret. Matched case-insensitively against the whole key.
_SECRET_KEY_PARTS = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "x-bapi-sign",
    "signature",
    "authorization",
    "cookie",
    "sessionid",
    "csrf",
    "master_key",
    "encryption_key",
    "private_key",
    "data_key",
    "dsn",
    "otp_token",
    "totp_secret",
    "recovery_code",
    "ciphertext",
)
_SECRET_KEY_RE = re.compile("|".join(re.escape(p) for p in _SECRET_KEY_PARTS), re.IGNORECASE)

# ``api_secret=abc``, ``"password": "abc"``, ``X-BAPI-SIGN: abc`` inside free text.
_SECRET_PAIR_RE = re.compile(
    r"""(?P<name>[\w-]*(?:"""
    + "|".join(re.escape(p) for p in _SECRET_KEY_PARTS)
    + r""")[\w-]*)(?P<sep>['"]?\s*[:=]\s*['"]?)(?P<value>[^\s'",&;}\]]{4,})""",
    re.IGNORECASE,
)

_MIN_KNOWN_SECRET_LENGTH = 6
_MAX_KNOWN_SECRETS = 4096


class _KnownSecrets:
    """A bounded, thread-safe set of plaintext secrets with one compiled pattern over all of them."""

    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < _MIN_KNOWN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._values:
                self._values.move_to_end(value)
                return
            self._values[value] = None
            if len(self._values) > _MAX_KNOWN_SECRETS:
                self._values.popitem(last=False)
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a secret that contains another is masked whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return self._pattern


_known = _KnownSecrets()


def register_secret(value: str) -> None:
    """Remember a plaintext secret so that it is masked wherever it appears later."""
    _known.add(value)


def is_secret_key(name: object) -> bool:
    """True when a mapping key's name says its value is secret."""
    return isinstance(name, str) and _SECRET_KEY_RE.search(name) is not None


def redact_text(text: str) -> str:
    """Mask known secret values and ``name=value`` pairs with a secret-looking name."""
    pattern = _known.pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _SECRET_PAIR_RE.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)


def redact(value: Any, _depth: int = 0) -> Any:
    """Return a copy of ``value`` with every secret masked (dicts, lists, tuples and text)."""
    if _depth > 20:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_key(k) and v not in (None, "") else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(v, _depth + 1) for v in value)
    # Anything else (Secret, Decimal, datetimes...) is rendered through repr by its consumer; a
    # Secret's repr is already masked.
    return value
