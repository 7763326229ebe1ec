"""Operator actions on tenants and users: disable, enable, unlock."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.http import HttpRequest

from accounts.models import Tenant, User
from accounts.services.audit import audit_record


def tenant_disable(*, tenant: Tenant, by: User, request: HttpRequest | None = None) -> None:
    """Members can no longer reach the tenant; its bots stop trading (the engine checks status)."""
    if tenant.status != Tenant.Status.DISABLED:
        tenant.status = Tenant.Status.DISABLED
        tenant.save(update_fields=["status"])
        audit_record(
            action="tenant.disabled", actor=by, tenant=tenant, target=tenant, request=request
        )


def tenant_enable(*, tenant: Tenant, by: User, request: HttpRequest | None = None) -> None:
    if tenant.status != Tenant.Status.ACTIVE:
        tenant.status = Tenant.Status.ACTIVE
        tenant.save(update_fields=["status"])
        audit_record(
            action="tenant.enabled", actor=by, tenant=tenant, target=tenant, request=request
        )


def user_unlock(*, user: User, by: User, request: HttpRequest | None = None) -> int:
    """Clear the failed sign-in lockout of one account; returns the attempts removed."""
    removed = int(axes_reset(username=user.email) or 0)
    membership = user.memberships.select_related("tenant").first()
    audit_record(
        action="auth.unlocked",
        actor=by,
        tenant=membership.tenant if membership else None,
        target=user,
        request=request,
        after={"attempts_cleared": removed},
    )
    return removed
