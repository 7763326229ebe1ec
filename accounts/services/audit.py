"""Writing the audit trail. Every audited change in the app goes through ``audit_record``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from accounts.models import AuditEvent, Tenant, User
from tradingsvc.lib.redaction import redact


def _trusted(address: str) -> bool:
    import ipaddress

    from django.conf import settings

    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n) for n in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. ``X-Forwarded-For`` is believed only when the request came from
    one of ``TRUSTED_PROXIES`` (anyone else can write the header): then the last address in it
    that is not itself a trusted proxy is the client. Otherwise ``REMOTE_ADDR``."""
    if request is None:
        return None
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and _trusted(remote):
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _trusted(hop):
                return str(hop[:45])
    return remote or None


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    tenant: Tenant | None = None,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event. ``before``/``after`` pass through the redactor, so no secret is stored."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_email=actor_email or (actor.email if actor else ""),
        is_staff_action=bool(actor and actor.is_staff),
        tenant=tenant,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        before=redact(before or {}),
        after=redact(after or {}),
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
    )
