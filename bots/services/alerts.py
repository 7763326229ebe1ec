"""Alerts: persisted until dismissed, one open alert per dedupe key, pushed live to the tenant.

An alert is stored as a code (``kind``) and its parameters, and rendered in the reader's language
when a page or an email shows it (``bots.texts``), like the audit trail. ``message`` keeps the
English text for logs and the operators. Alerts the staff must see are delivered to them as well:
every alert without a tenant, and a tenant's alert raised with ``notify_operator`` (a bot put in
the error state, an order nobody can place or find): email to every active staff user, plus the
operator webhook when one is configured.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.models import User
from bots.models import Alert
from bots.services.live import publish_bot_event
from bots.texts import text_render
from tradingsvc.lib.phrases import params_json

log = structlog.stdlib.get_logger(__name__)
OPERATOR_WEBHOOK_TIMEOUT_SECONDS = 5.0


def alert_text(kind: str, params: Mapping[str, Any], fallback: str = "") -> str:
    """The alert in the active language: its code's words with its parameters, else ``fallback``
    (an alert stored before it had parameters shows its stored message)."""
    if not params:
        return fallback
    return text_render(kind, params, fallback)


def alert_raise(
    *,
    tenant_id: uuid.UUID | None,
    kind: str,
    message: str = "",
    severity: str = Alert.Severity.WARNING,
    bot_id: int | None = None,
    dedupe_key: str = "",
    params: Mapping[str, Any] | None = None,
    notify_operator: bool = False,
) -> Alert | None:
    """Record an alert; while one with the same ``dedupe_key`` is open, nothing new is added.

    With ``params`` and a known ``kind`` the message is rendered from the code (in English here;
    pages render it again in the reader's language)."""
    params = params_json(params or {})
    if params:
        with translation.override("en"):
            message = alert_text(kind, params, message)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                tenant_id=tenant_id,
                bot_id=bot_id,
                kind=kind,
                severity=severity,
                message=message,
                dedupe_key=dedupe_key,
                params=params,
                notify_operator=notify_operator,
            )
    except IntegrityError:
        return None
    log.warning(
        "alert.raised", tenant_id=str(tenant_id or ""), bot_id=bot_id, kind=kind, severity=severity
    )
    from bots.tasks import deliver_alert

    transaction.on_commit(partial(deliver_alert.delay, alert_id=alert.pk))
    if tenant_id is not None:
        transaction.on_commit(
            partial(publish_bot_event, tenant_id=tenant_id, bot_id=bot_id, kind="alert")
        )
    return alert


def alert_dismiss(*, alert: Alert, by: object) -> None:
    if alert.dismissed_at is None:
        Alert.objects.filter(pk=alert.pk).update(
            dismissed_at=timezone.now(), dismissed_by=getattr(by, "pk", None)
        )
        if alert.tenant_id is not None:
            publish_bot_event(tenant_id=alert.tenant_id, bot_id=alert.bot_id, kind="alert")


def alert_deliver_operator(*, alert: Alert) -> bool:
    """Email the staff list (and post to the operator webhook) once; True if sent now.

    Claimed with a conditional UPDATE before sending, so a retried delivery task never mails the
    staff twice; a webhook failure is logged and not retried (the mail and the admin list stay)."""
    if alert.tenant_id is not None and not alert.notify_operator:
        return False
    claimed = Alert.objects.filter(pk=alert.pk, operator_notified_at=None).update(
        operator_notified_at=timezone.now()
    )
    if claimed != 1:
        return False
    staff = list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    tenant = f" ({alert.tenant})" if alert.tenant_id is not None else ""
    try:
        if staff:
            send_mail(
                subject=f"[tradingsvc operator] {alert.get_severity_display()}: {alert.kind}{tenant}",
                message=f"{alert.message}\n\nAlert {alert.pk}; see the admin's alerts list.",
                from_email=None,
                recipient_list=staff,
            )
    except Exception:
        Alert.objects.filter(pk=alert.pk).update(operator_notified_at=None)  # let the retry send
        raise
    _post_operator_webhook(alert)
    return True


def _post_operator_webhook(alert: Alert) -> None:
    """The operator's own endpoint (a setting), through the same checked, signed sender as a
    client's webhook (no internal address, no redirect, timestamp signed with the body)."""
    url, secret = settings.OPERATOR_ALERT_WEBHOOK_URL, settings.OPERATOR_ALERT_WEBHOOK_SECRET
    if not url:
        return
    from bots.services.notify import alert_payload, webhook_send

    result = webhook_send(
        url=url,
        secret=secret,
        payload={**alert_payload(alert), "tenant_id": str(alert.tenant_id or "")},
        timeout=OPERATOR_WEBHOOK_TIMEOUT_SECONDS,
    )
    if result.outcome != "delivered":
        log.warning(
            "alert.operator_webhook_failed",
            alert_id=alert.pk,
            outcome=result.outcome,
            status=result.status_code,
        )
