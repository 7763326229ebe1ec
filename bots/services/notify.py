"""Delivering alerts: in-app (the row itself), email to the tenant's members, signed webhook.

Delivery is at-least-once from a task: each channel stamps its own time on the alert after it
succeeded, so a retried task does not email twice; a webhook receiver should de-duplicate on the
alert id it is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import requests
import structlog
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from bots.models import Alert, NotificationSettings
from tradingsvc.lib.crypto import open_sealed, seal, settings_keyring

log = structlog.stdlib.get_logger(__name__)
WEBHOOK_TIMEOUT_SECONDS = 5.0


def notification_settings_save(
    *, tenant_id: uuid.UUID, email_enabled: bool, webhook_url: str, webhook_secret: str | None
) -> NotificationSettings:
    """Save a tenant's channels; a new webhook secret is sealed, an empty one keeps the old."""
    with transaction.atomic():
        settings_row, _ = NotificationSettings.objects.get_or_create(tenant_id=tenant_id)
        settings_row.email_enabled = email_enabled
        settings_row.webhook_url = webhook_url
        if webhook_secret:
            settings_row.webhook_secret_sealed = seal(
                settings_keyring(), webhook_secret, associated_data=settings_row.associated_data()
            )
        settings_row.save()
    return settings_row


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alert_payload(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.pk, "kind": alert.kind, "severity": alert.severity, "message": alert.message,
        "bot_id": alert.bot_id, "created_at": alert.created_at.isoformat(),
    }  # fmt: skip


def alert_deliver(*, alert: Alert) -> dict[str, bool]:
    """Send the alert on each configured channel not yet done; returns what was sent now."""
    sent = {"email": False, "webhook": False}
    if alert.tenant_id is None:
        return sent
    config = NotificationSettings.objects.filter(tenant_id=alert.tenant_id).first()
    email_enabled = config.email_enabled if config else True
    if email_enabled and alert.emailed_at is None:
        recipients = list(
            Membership.objects.filter(tenant_id=alert.tenant_id, user__is_active=True).values_list(
                "user__email", flat=True
            )
        )
        if recipients:
            send_mail(
                subject=f"[tradingsvc] {alert.get_severity_display()}: {alert.kind}",
                message=f"{alert.message}\n\nSee your dashboard for details; the alert stays until you dismiss it.",
                from_email=None,
                recipient_list=recipients,
            )
            Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
            sent["email"] = True
    if config and config.webhook_url and config.webhook_secret_sealed and alert.webhook_at is None:
        secret = open_sealed(
            settings_keyring(),
            config.webhook_secret_sealed,
            associated_data=config.associated_data(),
        )
        body = json.dumps(alert_payload(alert), separators=(",", ":")).encode()
        response = requests.post(
            config.webhook_url, data=body, timeout=WEBHOOK_TIMEOUT_SECONDS,
            headers={"Content-Type": "application/json",
                     "X-Tradingsvc-Signature": webhook_signature(secret.reveal(), body)},
        )  # fmt: skip
        if 200 <= response.status_code < 300:
            Alert.objects.filter(pk=alert.pk).update(webhook_at=timezone.now())
            sent["webhook"] = True
        else:
            log.warning(
                "alert.webhook_refused", tenant_id=str(alert.tenant_id), status=response.status_code
            )
    return sent
