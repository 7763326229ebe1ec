"""Thin tasks for billing: the monthly close fans out one close per tenant."""

from __future__ import annotations

from datetime import date

from celery import shared_task


@shared_task(name="billing.close_periods")
def close_periods() -> int:
    """Beat, on the 1st of each month: close last month for every subscribed tenant not closed
    yet, one task each (a failure stays with its tenant; re-running is harmless)."""
    from django.utils import timezone

    from billing.selectors import tenants_to_close
    from billing.services.close import previous_period_start

    period_start = previous_period_start(timezone.now().date())
    tenant_ids = tenants_to_close(period_start)
    for tenant_id in tenant_ids:
        close_period.delay(tenant_id=str(tenant_id), period_start=period_start.isoformat())
    return len(tenant_ids)


@shared_task(name="billing.close_period")
def close_period(tenant_id: str, period_start: str) -> str:
    """Close one tenant's month; returns the invoice number (empty when nothing bills it)."""
    from billing.services.close import period_close

    invoice = period_close(tenant_id=tenant_id, period_start=date.fromisoformat(period_start))
    return invoice.display_number if invoice else ""
