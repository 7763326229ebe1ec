"""Data rights: an owner downloads everything held on their tenant, or asks for it to be erased.

The export is a zip of JSON and CSV files built from explicit field lists (never a sealed value or
secret) and passed through the redactor as a second net. Later apps add their own files with
:func:`register_exporter` (bots, orders, fills, invoices), so the export grows with the service.

Erasure removes exchange keys and personal data, and keeps what the law requires (invoices, the
audit trail) with the people in it anonymised.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, Tenant, User
from accounts.services.audit import audit_record
from accounts.services.tenants import tenant_halt_now
from exchange.models import ExchangeConnection
from tradingsvc.lib.redaction import redact

Rows = list[dict[str, Any]]
_EXPORTERS: dict[str, Callable[[Tenant], Rows]] = {}


def register_exporter(name: str, rows: Callable[[Tenant], Rows]) -> None:
    """Add ``<name>.json`` and ``<name>.csv`` to every export (rows: flat dicts, no secrets)."""
    _EXPORTERS[name] = rows


def _members(tenant: Tenant) -> Rows:
    return [
        {
            "email": m.user.email,
            "name": m.user.get_full_name(),
            "role": m.role,
            "joined": m.created_at,
        }
        for m in Membership.objects.filter(tenant=tenant).select_related("user")
    ]


def _invitations(tenant: Tenant) -> Rows:
    return [
        {
            "email": i.email,
            "role": i.role,
            "status": i.status,
            "created": i.created_at,
            "expires": i.expires_at,
        }
        for i in Invitation.objects.for_tenant(tenant)
    ]


def _exchange_keys(tenant: Tenant) -> Rows:
    return [
        {
            "environment": c.environment,
            "label": c.label,
            "key_last4": c.api_key_last4,
            "status": c.status,
            "permissions": c.permissions,
            "read_only": c.read_only,
            "last_validated": c.last_validated_at,
            "expires": c.key_expires_at,
            "created": c.created_at,
        }
        for c in ExchangeConnection.objects.filter(tenant=tenant)
    ]


def _audit(tenant: Tenant) -> Rows:
    return [
        {
            "at": e.at,
            "actor": e.actor_email,
            "action": e.action,
            "target": e.target_repr,
            "before": e.before,
            "after": e.after,
            "ip": e.ip,
        }
        for e in AuditEvent.objects.for_tenant(tenant)
    ]


register_exporter("members", _members)
register_exporter("invitations", _invitations)
register_exporter("exchange_keys", _exchange_keys)
register_exporter("audit_trail", _audit)


def _csv(rows: Rows) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
            )
    return buffer.getvalue()


def tenant_export_zip(*, tenant: Tenant, by: User, request: HttpRequest | None = None) -> bytes:
    """Everything the service holds on the tenant, as a zip of JSON and CSV files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        summary = {
            "tenant": tenant.name,
            "tenant_id": str(tenant.id),
            "exported_at": timezone.now(),
        }
        archive.writestr("tenant.json", json.dumps(summary, default=str, indent=2))
        for name, rows_for in _EXPORTERS.items():
            rows = redact(rows_for(tenant))
            archive.writestr(f"{name}.json", json.dumps(rows, default=str, indent=2))
            archive.writestr(f"{name}.csv", _csv(rows))
    audit_record(action="data.exported", actor=by, tenant=tenant, target=tenant, request=request)
    return buffer.getvalue()


def tenant_deletion_request(
    *, tenant: Tenant, by: User, request: HttpRequest | None = None
) -> None:
    """The owner asks for erasure; the operator carries it out from admin (``tenant_erase``)."""
    if tenant.deletion_requested_at is None:
        tenant.deletion_requested_at = timezone.now()
        tenant.save(update_fields=["deletion_requested_at"])
        audit_record(
            action="data.deletion_requested",
            actor=by,
            tenant=tenant,
            target=tenant,
            request=request,
        )


def _anonymise_user(user: User) -> None:
    Authenticator.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    AuditEvent.objects.filter(actor=user).anonymise()
    user.email = f"deleted-{user.pk}@invalid"
    user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    # allauth's user-session index names this user's sessions; no need to decode every session.
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()


@transaction.atomic
def tenant_erase(*, tenant: Tenant, by: User, request: HttpRequest | None = None) -> None:
    """Remove keys and personal data; keep the tenant row, invoices and the anonymised audit trail."""
    audit_record(action="data.erased", actor=by, tenant=tenant, target=tenant, request=request)
    # Trading stops, and open orders are cancelled while the keys still exist.
    tenant.status = Tenant.Status.DISABLED
    tenant.save(update_fields=["status"])
    tenant_halt_now(tenant=tenant)
    ExchangeConnection.objects.filter(tenant=tenant).update(
        api_key_sealed="", api_secret_sealed="", label="", status=ExchangeConnection.Status.RETIRED
    )
    Invitation.objects.for_tenant(tenant).delete()
    members = list(User.objects.filter(memberships__tenant=tenant))
    Membership.objects.filter(tenant=tenant).delete()
    for user in members:
        if not user.memberships.exists() and not user.is_staff:
            _anonymise_user(user)
    # Operators' own actions keep their names; the tenant's people become anonymous.
    AuditEvent.objects.for_tenant(tenant).filter(is_staff_action=False).anonymise()
    tenant.name = f"Erased tenant {str(tenant.id)[:8]}"
    tenant.status = Tenant.Status.DISABLED
    tenant.anonymised_at = timezone.now()
    tenant.save()
