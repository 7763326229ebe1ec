"""Delivering one event to a webhook, recording each attempt and when the next one is due.

``tradingsvc.lib.webhooks.webhook_send`` does the checked, signed POST; this service adds what the
client sees (a ``WebhookAttempt`` per try) and the retry schedule: a failure the endpoint may
recover from (an error status, a timeout, a refused connection) is tried again after 30 s, 1, 2
and 4 minutes (below Celery's visibility timeout, see settings); a refused address, scheme or
redirect is not, since trying again would change nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import WebhookAttempt
from tradingsvc.lib.webhooks import WebhookResult, webhook_send

log = structlog.stdlib.get_logger(__name__)

WEBHOOK_MAX_ATTEMPTS = 5
WEBHOOK_FIRST_RETRY_SECONDS = 30
RETRIED_OUTCOMES = frozenset({"http_error", "timeout", "connection_error", "tls_error"})


def webhook_retry_delay(attempt: int) -> int | None:
    """Seconds before the try after ``attempt`` (1-based), or None when it was the last."""
    if attempt >= WEBHOOK_MAX_ATTEMPTS:
        return None
    return int(WEBHOOK_FIRST_RETRY_SECONDS * 2 ** (attempt - 1))


def _shown_url(url: str) -> str:
    """The URL without its query string or credentials, which may carry a token."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return url[:100]
    return f"{parts.scheme}://{netloc}{parts.path}"[:300]


def webhook_deliver(
    *,
    tenant_id: uuid.UUID | None,
    event: str,
    url: str,
    secret: str,
    payload: dict[str, Any],
) -> tuple[WebhookResult, int | None]:
    """One attempt at ``event``: sent, recorded, and the seconds until a retry (None: no retry,
    because it was delivered, cannot succeed, or was the last try)."""
    attempt = WebhookAttempt.objects.filter(event=event).count() + 1
    if attempt > WEBHOOK_MAX_ATTEMPTS:
        return WebhookResult(outcome="gave_up"), None
    result = webhook_send(url=url, secret=secret, payload={**payload, "attempt": attempt})
    delay = webhook_retry_delay(attempt) if result.outcome in RETRIED_OUTCOMES else None
    try:
        with transaction.atomic():
            WebhookAttempt.objects.create(
                tenant_id=tenant_id,
                event=event,
                attempt=attempt,
                url=_shown_url(url),
                outcome=result.outcome,
                status_code=result.status_code,
                next_attempt_at=timezone.now() + timedelta(seconds=delay) if delay else None,
            )
    except IntegrityError:
        # Another run of the same task recorded this attempt number first: it owns the retry.
        return result, None
    if not result.delivered:
        log.warning(
            "webhook.failed",
            webhook_event=event,
            attempt=attempt,
            outcome=result.outcome,
            status=result.status_code,
            retry_in=delay,
        )
    return result, delay
