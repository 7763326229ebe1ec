"""Subscriptions (a history of plans per tenant) and the acceptance of the service terms."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from accounts.models import Tenant, User
from billing.fees import month_end
from billing.models import Plan, Subscription, TermsAcceptance, TermsVersion


class SubscriptionRefused(Exception):
    """The change asked for cannot be made (the message says why)."""


def subscription_start(
    *, tenant: Tenant, plan: Plan, starts_on: date, cycle: str = Subscription.Cycle.MONTHLY
) -> Subscription:
    """A tenant's first subscription, from any day: its first period is that day to the month's
    end (see ``billing.fees.fixed_fee`` for how that period is charged)."""
    if Subscription.objects.filter(tenant=tenant).exists():
        raise SubscriptionRefused("the tenant already has a subscription: change its plan")
    return Subscription.objects.create(tenant=tenant, plan=plan, starts_on=starts_on, cycle=cycle)


def subscription_change(
    *, tenant: Tenant, plan: Plan, today: date, cycle: str | None = None
) -> Subscription:
    """Move the tenant to ``plan`` from the next period's first day, so every period is billed on
    one plan. A change already scheduled for that day is replaced."""
    effective = month_end(today.replace(day=1))
    with transaction.atomic():
        current = (
            Subscription.objects.select_for_update()
            .filter(tenant=tenant, starts_on__lt=effective)
            .order_by("-starts_on")
            .first()
        )
        if current is None:
            raise SubscriptionRefused("the tenant has no subscription to change")
        Subscription.objects.filter(tenant=tenant, starts_on__gte=effective).delete()
        Subscription.objects.filter(pk=current.pk).update(ends_on=effective)
        return Subscription.objects.create(
            tenant=tenant, plan=plan, starts_on=effective, cycle=cycle or current.cycle
        )


def terms_accept(*, tenant: Tenant, user: User, terms: TermsVersion) -> TermsAcceptance:
    """Record that ``user`` accepted this version of the terms for ``tenant`` (once)."""
    acceptance, _ = TermsAcceptance.objects.get_or_create(tenant=tenant, user=user, terms=terms)
    return acceptance
