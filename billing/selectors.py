"""Reads of the billing app: the operator's settings, a period's subscription, the last close."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from billing.fees import month_end
from billing.models import BillingSettings, Invoice, Subscription


def billing_settings() -> BillingSettings:
    """The operator's billing settings (the one row, created with its defaults if missing)."""
    found, _ = BillingSettings.objects.get_or_create(pk=1)
    return found


def subscription_for_period(tenant_id: Any, period_start: date) -> Subscription | None:
    """The subscription that bills the month starting ``period_start``: the latest one started
    by the month's end and not ended by its start (plan changes take effect at a period's start,
    so a period has one)."""
    return (
        Subscription.objects.filter(tenant_id=tenant_id, starts_on__lt=month_end(period_start))
        .filter(Q(ends_on=None) | Q(ends_on__gt=period_start))
        .select_related("plan")
        .order_by("-starts_on")
        .first()
    )


def tenants_to_close(period_start: date) -> list[Any]:
    """Tenants with a subscription in the month and no invoice for it yet."""
    subscribed = (
        Subscription.objects.filter(starts_on__lt=month_end(period_start))
        .filter(Q(ends_on=None) | Q(ends_on__gt=period_start))
        .values_list("tenant_id", flat=True)
    )
    closed = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE, period_start=period_start
    ).values_list("tenant_id", flat=True)
    return sorted(set(subscribed) - set(closed), key=str)


def invoice_before(tenant_id: Any, period_start: date) -> Invoice | None:
    """The tenant's last period invoice before this period (where its HWM was left)."""
    return (
        Invoice.objects.filter(
            tenant_id=tenant_id, kind=Invoice.Kind.INVOICE, period_start__lt=period_start
        )
        .order_by("-period_start")
        .first()
    )


def profitable_months(tenant_id: Any, period_start: date) -> int:
    """How many of the tenant's closed periods before this one found a gain above the HWM."""
    return Invoice.objects.filter(
        tenant_id=tenant_id,
        kind=Invoice.Kind.INVOICE,
        period_start__lt=period_start,
        gain__gt=0,
    ).count()


def subscribed_since(tenant_id: Any) -> date | None:
    """The day the tenant's first subscription began: a plan change is not a new first month."""
    return (
        Subscription.objects.filter(tenant_id=tenant_id)
        .order_by("starts_on")
        .values_list("starts_on", flat=True)
        .first()
    )
