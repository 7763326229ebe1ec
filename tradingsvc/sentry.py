"""Sentry, started only when ``SENTRY_DSN`` is set, with every secret scrubbed before sending.

The SDK's default ``EventScrubber`` matches exact key names only, so a frame local called
``api_secret`` left in clear (verified on this machine). Here the scrubber's deny list is extended
and made recursive, and ``before_send`` / ``before_breadcrumb`` pass the whole event through the
project's redactor, which also masks known secret values inside free text.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

from tradingsvc.lib.redaction import redact

EXTRA_DENYLIST = [
    "api_secret",
    "apisecret",
    "bybit_secret",
    "secret_key",
    "master_key",
    "master_keys",
    "encryption_key",
    "data_key",
    "private_key",
    "x-bapi-sign",
    "x-bapi-api-key",
    "otp_token",
    "totp_secret",
    "recovery_codes",
    "ciphertext",
]


def scrub_event(event: Any, _hint: Any) -> Any:
    """``before_send``: the whole event, through the redactor."""
    return redact(event)


def scrub_breadcrumb(crumb: Any, _hint: Any) -> Any:
    """``before_breadcrumb``: log breadcrumbs carry messages and data that may hold secrets."""
    return redact(crumb)


def init_sentry(
    *, dsn: str, environment: str, traces_sample_rate: float = 0.0, **options: Any
) -> None:
    """Initialise the SDK (Django and Celery integrations switch on by themselves)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        event_scrubber=EventScrubber(
            denylist=DEFAULT_DENYLIST + EXTRA_DENYLIST,
            pii_denylist=DEFAULT_PII_DENYLIST,
            recursive=True,
        ),
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
