"""Data rights: an owner downloads everything held on their tenant, or asks for it to be erased.

The export is a zip of JSON and CSV files: members, invitations, keys and the audit trail from
explicit field lists, and then every other kind of row the tenant owns (any model with a foreign
key to the tenant, or to a row that has one: bots, orders, fills, positions, equity, alerts,
webhook attempts, later invoices), found from the models themselves so a new table cannot be
forgotten. Sealed columns (the one registry in ``accounts.services.master_keys``), token hashes and
passwords are never written; everything passes the redactor as a second net, and CSV cells are
defused against spreadsheet formulas. The apps above accounts add their own hand-made files (the
exchange's keys) by answering ``accounts.events.TenantExporting``.

Erasure removes exchange keys (the exchange's handler of ``TenantErasing``) and personal data, and keeps what the law requires (invoices, the
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
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.events import ExportPart, TenantErasing, TenantExporting, accounts_event_send
from accounts.models import AuditEvent, EmergencyStopLink, Invitation, Membership, Tenant, User
from accounts.services.audit import audit_record
from accounts.services.tenants import tenant_halt_now
from tradingsvc.lib.redaction import redact
from tradingsvc.lib.spreadsheet import csv_cell

Rows = list[dict[str, Any]]


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


_OWN_FILES: dict[str, Callable[[Tenant], Rows]] = {
    "members": _members,
    "invitations": _invitations,
    "audit_trail": _audit,
}

# Exported by hand above (explicit fields), or holding nothing of the client's own but a token.
_HAND_EXPORTED = {Membership, Invitation, AuditEvent, EmergencyStopLink}


def _export_parts(tenant: Tenant) -> list[ExportPart]:
    """This app's files, then those the apps above add (``TenantExporting``)."""
    own = ExportPart(files={name: rows(tenant) for name, rows in _OWN_FILES.items()})
    answers = accounts_event_send(TenantExporting(tenant=tenant))
    return [own, *(part for part in answers if isinstance(part, ExportPart))]


_NEVER_EXPORTED_NAMES = ("token_hash", "password", "secret", "session_key")


def tenant_owned_models() -> list[tuple[type[models.Model], str]]:
    """Every model whose rows belong to a tenant, with the lookup from it to the tenant: a
    foreign key to ``Tenant``, or to a model that has one (a bot's orders and fills)."""

    def tenant_fk(model: type[models.Model]) -> str | None:
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is Tenant:
                return field.name
        return None

    found: list[tuple[type[models.Model], str]] = []
    for model in apps.get_models():
        if model is Tenant or model in _HAND_EXPORTED or getattr(model, "exported_by_hand", False):
            continue
        direct = tenant_fk(model)
        if direct:
            found.append((model, direct))
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is not None:
                parent = tenant_fk(field.related_model)
                if parent:
                    found.append((model, f"{field.name}__{parent}"))
                    break
    return sorted(found, key=lambda entry: entry[0]._meta.label)


def _exported_columns(model: type[models.Model]) -> list[str]:
    from accounts.services.master_keys import SEALED_FIELDS

    sealed = {f.column for f in SEALED_FIELDS if f.model_class() is model}
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.name not in sealed and not any(n in field.name for n in _NEVER_EXPORTED_NAMES)
    ]


def _owned_rows(tenant: Tenant, model: type[models.Model], lookup: str) -> Rows:
    columns = _exported_columns(model)
    rows = model._default_manager.filter(**{lookup: tenant}).order_by("pk").values(*columns)
    return [dict(row) for row in rows.iterator(chunk_size=2000)]


def _csv(rows: Rows) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: csv_cell(json.dumps(v, default=str) if isinstance(v, dict | list) else v)
                    for k, v in row.items()
                }
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
        files = [
            (name, rows) for part in _export_parts(tenant) for name, rows in part.files.items()
        ]
        files += [
            (
                f"{model._meta.app_label}_{model._meta.model_name}",
                _owned_rows(tenant, model, lookup),
            )
            for model, lookup in tenant_owned_models()
        ]
        for name, raw in files:
            rows = redact(raw)
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


def _identities(tenant: Tenant, members: list[User]) -> list[str]:
    """Every string that names the tenant's people or the tenant itself."""
    found = [tenant.name]
    for user in members:
        found += [user.email, user.first_name, user.last_name, user.get_full_name()]
    found += list(Invitation.objects.for_tenant(tenant).values_list("email", flat=True))
    return [value for value in found if value]


def _forget_elsewhere(users: list[User], identities: list[str]) -> None:
    """Records outside the tenant's own rows that still name the people: failed sign-in logs
    (they keep the attempted address), and the admin log's object descriptions."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.models import LogEntry

    emails = [u.email for u in users]
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__in=emails).delete()
    for entry in LogEntry.objects.all().only("pk", "object_repr", "change_message"):
        text, message = entry.object_repr, entry.change_message
        for value in identities:
            if len(value) >= 3:
                text, message = text.replace(value, "[erased]"), message.replace(value, "[erased]")
        if (text, message) != (entry.object_repr, entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=text, change_message=message)


@transaction.atomic
def tenant_erase(*, tenant: Tenant, by: User, request: HttpRequest | None = None) -> None:
    """Remove keys and personal data; keep the tenant row, invoices and the anonymised audit
    trail, in which no address or name of the tenant's people (or the tenant's own name) is left."""
    audit_record(action="data.erased", actor=by, tenant=tenant, target=tenant, request=request)
    # Trading stops, and open orders are cancelled while the keys still exist.
    tenant.status = Tenant.Status.DISABLED
    tenant.save(update_fields=["status"])
    tenant_halt_now(tenant=tenant)
    accounts_event_send(TenantErasing(tenant=tenant))
    members = list(User.objects.filter(memberships__tenant=tenant))
    erased = [
        u for u in members if not u.is_staff and not u.memberships.exclude(tenant=tenant).exists()
    ]
    identities = _identities(tenant, erased)
    erased_pks = [u.pk for u in erased]
    people_events = AuditEvent.objects.filter(
        models.Q(tenant=tenant)
        | models.Q(actor__in=erased_pks)
        | models.Q(target_type=User._meta.label, target_id__in=[str(pk) for pk in erased_pks])
    )
    _forget_elsewhere(erased, identities)
    Invitation.objects.for_tenant(tenant).delete()
    EmergencyStopLink.objects.filter(tenant=tenant).delete()
    Membership.objects.filter(tenant=tenant).delete()
    for user in erased:
        _anonymise_user(user)
    # Operators' own actions keep their names; the tenant's people become anonymous.
    AuditEvent.objects.for_tenant(tenant).filter(is_staff_action=False).anonymise()
    people_events.scrub(identities)
    tenant.name = f"Erased tenant {str(tenant.id)[:8]}"
    tenant.status = Tenant.Status.DISABLED
    tenant.anonymised_at = timezone.now()
    tenant.save()
