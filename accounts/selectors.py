"""Reads of tenant data. Views reach tenant-owned rows only through these and ``for_tenant``."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404, HttpRequest

from accounts.models import AuditEvent, Invitation, Membership, Tenant, User

M = TypeVar("M", bound=models.Model)


def memberships_for_user(user: User) -> models.QuerySet[Membership]:
    """The user's memberships in tenants they may sign in to (active, or suspended: they still see
    everything and pay; only a disabled tenant is closed to them)."""
    return Membership.objects.filter(
        user=user, tenant__status__in=Tenant.SIGN_IN_STATUSES
    ).select_related("tenant")


def membership_in_use(user: User, chosen_tenant_id: str | None) -> Membership | None:
    """The membership a user acts through: the tenant chosen in the session, else their first.
    Pages (``CurrentMembershipMiddleware``) and the live socket pick it the same way."""
    memberships = list(memberships_for_user(user))
    current = next((m for m in memberships if str(m.tenant_id) == chosen_tenant_id), None)
    return current or (memberships[0] if memberships else None)


def request_membership(request: HttpRequest) -> Membership:
    """The membership the request acts through (set by ``CurrentMembershipMiddleware``); else 404."""
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        raise Http404("No client account for this user.")
    return membership


def tenant_object_or_404(queryset: models.QuerySet[M], tenant: Tenant, **lookup: object) -> M:
    """One tenant-owned object by lookup, scoped to ``tenant``: another tenant's row is a 404."""
    scoped = queryset.filter(tenant=tenant)
    try:
        return scoped.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


def tenant_members(tenant: Tenant) -> models.QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("role", "user__email")
    )


def tenant_invitations(tenant: Tenant) -> models.QuerySet[Invitation]:
    return Invitation.objects.for_tenant(tenant).select_related("invited_by")


def tenant_audit_events(tenant: Tenant) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.for_tenant(tenant).select_related("actor")
