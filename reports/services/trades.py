"""Closed trades rolled up per bot and UTC day, so the performance page sums a few hundred rows
instead of scanning every fill. A "trade" is a fill that closed some position: its realised P&L
is more than its own fee (an opening fill's P&L is exactly minus its fee)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from bots.models import BotFill
from reports.models import TradeRollup
from tradingsvc.lib.utc import utc_day_start

LATE_FILL_DAYS = 7  # reconciliation catches up at most Bybit's 7-day execution window


def closing_fills() -> QuerySet[BotFill]:
    return BotFill.objects.exclude(realised_pnl=-F("fee"))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = utc_day_start(day)
    return start, start + timedelta(days=1)


def trade_aggregates() -> dict[str, Any]:
    """Counts and sums of closing fills: the one definition of a win, a loss and their sizes."""
    won, lost = Q(realised_pnl__gt=0), Q(realised_pnl__lt=0)
    return {
        "trades": Count("id"),
        "wins": Count("id", filter=won),
        "losses": Count("id", filter=lost),
        "gross_profit": Sum("realised_pnl", filter=won),
        "gross_loss": Sum("realised_pnl", filter=lost),
        "largest_win": Max("realised_pnl", filter=won),
        "largest_loss": Min("realised_pnl", filter=lost),
    }


def trade_totals(fills: QuerySet[BotFill]) -> dict[str, Any]:
    """Counts and sums of closing fills, as one aggregate query."""
    return fills.aggregate(**trade_aggregates())


def _rollup(row: Mapping[str, Any]) -> TradeRollup:
    return TradeRollup(
        tenant_id=row["tenant_id"],
        bot_id=row["bot_id"],
        day=row["day"],
        trades=row["trades"],
        wins=row["wins"],
        losses=row["losses"],
        gross_profit=row["gross_profit"] or 0,
        gross_loss=row["gross_loss"] or 0,
        largest_win=row["largest_win"],
        largest_loss=row["largest_loss"],
    )


@transaction.atomic
def trade_rollups_refresh(*, today: date, days: int = LATE_FILL_DAYS) -> int:
    """Recompute the finished days ``today - days`` .. ``today - 1`` for every bot; returns rows."""
    first = today - timedelta(days=days)
    start, _ = day_bounds(first)
    end, _ = day_bounds(today)
    rows = (
        closing_fills()
        .filter(exec_time__gte=start, exec_time__lt=end)
        .annotate(day=TruncDate("exec_time", tzinfo=UTC))
        .values("tenant_id", "bot_id", "day")
        .annotate(**trade_aggregates())
        .order_by()
    )
    TradeRollup.objects.filter(day__gte=first, day__lt=today).delete()
    created = TradeRollup.objects.bulk_create([_rollup(r) for r in rows], batch_size=2000)
    return len(created)
