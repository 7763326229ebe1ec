"""Delivering alerts: in-app (the row itself), email to the tenant's members, signed webhook.

Each member's email is written in their language (``User.language``), subject included: the
alert's code is rendered then, as a page renders it (``bots.texts``). Delivery is at-least-once
from a task: each channel stamps its own time on the alert after it
succeeded, so a retried task does not email twice; a webhook receiver should de-duplicate on the
alert id it is sent. The webhook goes through ``tradingsvc.lib.webhooks.webhook_send`` (checked
against internal networks on every attempt, no redirects, timestamp signed with the body; re-exported
here for other senders) and ``accounts.services.webhooks.webhook_deliver`` (each attempt recorded
for the client, failures retried with backoff by re-queueing ``bots.deliver_alert``).
"""

from __future__ import annotations

import uuid

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.services.language import user_language
from accounts.services.webhooks import webhook_deliver
from bots.models import Alert, NotificationSettings
from bots.services.alerts import alert_text
from tradingsvc.lib.crypto import open_sealed, seal, settings_keyring
from tradingsvc.lib.webhooks import WebhookRefused, webhook_send, webhook_target

SUBJECT_CHARS = 80

__all__ = ["WebhookRefused", "alert_deliver", "notification_settings_save", "webhook_send"]


def notification_settings_save(
    *, tenant_id: uuid.UUID, email_enabled: bool, webhook_url: str, webhook_secret: str | None
) -> NotificationSettings:
    """Save a tenant's channels; a new webhook secret is sealed, an empty one keeps the old.

    Raises ``WebhookRefused`` for a URL that is not https or reaches a private or reserved
    address (it is checked again on every delivery)."""
    if webhook_url:
        webhook_target(webhook_url)
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


def alert_payload(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "severity": alert.severity,
        "message": alert.message,
        "bot_id": alert.bot_id,
        "created_at": alert.created_at.isoformat(),
    }


def alert_email(alert: Alert) -> tuple[str, str]:
    """The alert's email (subject, body) in the active language."""
    words = alert_text(alert.kind, alert.params or {}, alert.message)
    subject = _("[tradingsvc] %(severity)s: %(summary)s") % {
        "severity": alert.get_severity_display(),
        "summary": _short(" ".join(words.split()), SUBJECT_CHARS),
    }
    body = _(
        "%(alert)s\n\nSee your dashboard for details; the alert stays until you dismiss it."
    ) % {"alert": words}
    return subject, body


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def alert_deliver(*, alert: Alert) -> dict[str, bool]:
    """Send the alert on each configured channel not yet done; returns what was sent now."""
    sent = {"email": False, "webhook": False}
    if alert.tenant_id is None:
        return sent
    config = NotificationSettings.objects.filter(tenant_id=alert.tenant_id).first()
    email_enabled = config.email_enabled if config else True
    if email_enabled and alert.emailed_at is None:
        by_language: dict[str, list[str]] = {}
        for email, language in Membership.objects.filter(
            tenant_id=alert.tenant_id, user__is_active=True
        ).values_list("user__email", "user__language"):
            by_language.setdefault(user_language(language), []).append(email)
        for language, recipients in sorted(by_language.items()):
            with translation.override(language):
                subject, body = alert_email(alert)
            send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
        if by_language:
            Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
            sent["email"] = True
    if config and config.webhook_url and config.webhook_secret_sealed and alert.webhook_at is None:
        secret = open_sealed(
            settings_keyring(),
            config.webhook_secret_sealed,
            associated_data=config.associated_data(),
        )
        result, retry_in = webhook_deliver(
            tenant_id=alert.tenant_id,
            event=f"alert:{alert.pk}",
            url=config.webhook_url,
            secret=secret.reveal(),
            payload=alert_payload(alert),
        )
        if result.delivered:
            Alert.objects.filter(pk=alert.pk).update(webhook_at=timezone.now())
            sent["webhook"] = True
        elif retry_in is not None:
            from bots.tasks import deliver_alert

            deliver_alert.apply_async((alert.pk,), countdown=retry_in)
    return sent
