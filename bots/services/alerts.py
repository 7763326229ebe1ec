"""Alerts: persisted until dismissed, one open alert per dedupe key, pushed live to the tenant."""

from __future__ import annotations

import uuid
from functools import partial

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.models import Alert
from bots.services.live import publish_bot_event

log = structlog.stdlib.get_logger(__name__)


def alert_raise(
    *,
    tenant_id: uuid.UUID | None,
    kind: str,
    message: str,
    severity: str = Alert.Severity.WARNING,
    bot_id: int | None = None,
    dedupe_key: str = "",
) -> Alert | None:
    """Record an alert; while one with the same ``dedupe_key`` is open, nothing new is added."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                tenant_id=tenant_id, bot_id=bot_id, kind=kind, severity=severity, message=message,
                dedupe_key=dedupe_key,
            )  # fmt: skip
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
