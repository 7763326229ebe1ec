"""Thin tasks of the reports app; the work is in ``reports.services``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.refresh_trade_rollups")
def refresh_trade_rollups() -> int:
    """Beat, every 10 minutes: finished days of closed trades, for the performance page."""
    from django.utils import timezone

    from reports.services.trades import trade_rollups_refresh

    return trade_rollups_refresh(today=timezone.now().date())
