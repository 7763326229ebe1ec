"""Operator actions on tenants and users: suspend, disable, enable, unlock.

Only an active tenant trades. Suspending (billing, for an unpaid invoice) or disabling (the
operator; erasure too) stops its bots at once: dispatch and every tick read the status, so no new
tick reaches them, and the engine is asked, by task name (accounts sits below the engine), to
cancel the tenant's open orders; reconciliation cancels again on each run and keeps the books of
its live positions right. Members of a suspended tenant still sign in, see everything and pay.
"""

from __future__ import annotations

from functools import partial

from axes.utils import reset as axes_reset
from django.db import transaction
from django.http import HttpRequest

from accounts.events import TradingHalted, accounts_event_send
from accounts.models import Tenant, User
from accounts.services.audit import audit_record


def _halt_trading(tenant: Tenant) -> None:
    """Ask the engine (after commit) to cancel the tenant's open orders."""
    transaction.on_commit(partial(accounts_event_send, TradingHalted(tenant=tenant)))


def tenant_halt_now(*, tenant: Tenant) -> None:
    """Cancel a non-trading tenant's open orders here and now (the engine's handler runs in this
    process): erasure calls it before the keys are erased, as nothing can cancel afterwards.
    Raises when the exchange could not be asked, so the erasure waits for a retry."""
    accounts_event_send(TradingHalted(tenant=tenant, now=True))


def _set_status(
    tenant: Tenant, status: str, action: str, by: User | None, request: HttpRequest | None
) -> bool:
    if tenant.status == status:
        return False
    before = tenant.status
    tenant.status = status
    tenant.save(update_fields=["status"])
    audit_record(
        action=action,
        actor=by,
        tenant=tenant,
        target=tenant,
        request=request,
        before={"status": before},
        after={"status": status},
    )
    return True


@transaction.atomic
def tenant_disable(*, tenant: Tenant, by: User, request: HttpRequest | None = None) -> None:
    """Members can no longer reach the tenant; its bots stop trading and its orders are cancelled."""
    if _set_status(tenant, Tenant.Status.DISABLED, "tenant.disabled", by, request):
        _halt_trading(tenant)


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, by: User | None, request: HttpRequest | None = None) -> None:
    """Stop trading (open orders cancelled) while members keep signing in, seeing and paying."""
    if _set_status(tenant, Tenant.Status.SUSPENDED, "tenant.suspended", by, request):
        _halt_trading(tenant)


@transaction.atomic
def tenant_enable(*, tenant: Tenant, by: User | None, request: HttpRequest | None = None) -> None:
    """Active again: its running bots are ticked again from the next candle."""
    _set_status(tenant, Tenant.Status.ACTIVE, "tenant.enabled", by, request)


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
