"""A value that must never be printed: exchange secrets, keys, tokens.

``str()``, ``repr()`` and f-strings show ``[redacted]``; only :meth:`Secret.reveal` gives the
plaintext, so every place that needs it is easy to find (``git grep reveal``). Sentry renders frame
locals with ``repr``, so a ``Secret`` in a local variable stays masked there too. Creating one also
registers the value with the log/Sentry redactor as a second net.
"""

from __future__ import annotations

import hmac
from typing import Final

from tradingsvc.lib.redaction import REDACTED, register_secret


class Secret:
    """Wraps a secret string; equality compares plaintexts in constant time."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value: Final = value
        register_secret(value)

    def reveal(self) -> str:
        """The plaintext. Call it only at the point of use (signing a request, encrypting)."""
        return self._value

    def last4(self) -> str:
        """The last four characters, the only part a person may be shown."""
        return self._value[-4:]

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        # Refuse to be pickled into a task message or a cache entry.
        raise TypeError("Secret values cannot be serialised")
