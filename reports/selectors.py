"""The performance page's data: chart series, daily closes, trade totals; bounded whatever the history.

Charts read the hour or day rollups (a few hundred rows for any range) or, for a day or a week,
raw snapshots; every series is thinned to ``MAX_POINTS``. Trade figures come from per-day
rollups plus today's fills, so 100,000 fills never all get read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max, Min, QuerySet, Sum
from django.utils import timezone

from accounts.models import Tenant
from bots.books import signed_flow
from bots.models import Bot, CapitalFlow, EquitySnapshot
from reports import metrics
from reports.models import EquityRollup, TradeRollup
from reports.services.trades import closing_fills, day_bounds, trade_totals

MAX_POINTS = 500
HISTOGRAM_BINS = 30


@dataclass(frozen=True)
class Range:
    key: str
    span: timedelta | None  # None: everything
    source: str  # "raw" snapshots, or an EquityRollup period


RANGES = {
    r.key: r
    for r in (
        Range("1d", timedelta(days=1), "raw"),
        Range("1w", timedelta(days=7), "raw"),
        Range("1m", timedelta(days=30), EquityRollup.Period.HOUR),
        Range("3m", timedelta(days=90), EquityRollup.Period.HOUR),
        Range("1y", timedelta(days=365), EquityRollup.Period.DAY),
        Range("all", None, EquityRollup.Period.DAY),
    )
}
DEFAULT_RANGE = "3m"
Points = list[tuple[datetime, Decimal]]


@dataclass(frozen=True)
class Performance:
    range: Range
    bot: Bot | None
    equity: Points
    drawdown: Points
    equity_metrics: metrics.EquityMetrics
    trade_metrics: metrics.TradeMetrics
    trade_returns: list[metrics.Bin]
    monthly_returns: dict[tuple[int, int], Decimal]


def _since(chosen: Range, now: datetime) -> datetime | None:
    return now - chosen.span if chosen.span else None


def _has_account_series(tenant: Tenant) -> bool:
    return EquityRollup.objects.for_tenant(tenant).filter(bot=None).exists()


def _rollups(tenant: Tenant, bot: Bot | None, period: str, since: datetime | None) -> Points:
    """Closes per period: the bot's, the account's, or (dry run only) the bots' summed."""
    rows: QuerySet[Any] = EquityRollup.objects.for_tenant(tenant).filter(period=period)
    if since is not None:
        rows = rows.filter(start__gte=since)
    if bot is not None:
        return list(rows.filter(bot=bot).order_by("start").values_list("start", "close"))
    account = rows.filter(bot=None)
    if _has_account_series(tenant):
        return list(account.order_by("start").values_list("start", "close"))
    summed = rows.values("start").annotate(total=Sum("close")).order_by("start")
    return [(r["start"], r["total"]) for r in summed]


def _raw(tenant: Tenant, bot: Bot | None, since: datetime | None) -> Points:
    rows = EquitySnapshot.objects.for_tenant(tenant).filter(bot=bot)
    if since is not None:
        rows = rows.filter(at__gte=since)
    return list(rows.order_by("at").values_list("at", "equity"))


def equity_series(tenant: Tenant, bot: Bot | None, chosen: Range, now: datetime) -> Points:
    since = _since(chosen, now)
    if chosen.source == "raw" and (bot is not None or _has_account_series(tenant)):
        points = _raw(tenant, bot, since)
    else:
        period = EquityRollup.Period.HOUR if chosen.source == "raw" else chosen.source
        points = _rollups(tenant, bot, period, since)
    return metrics.downsample(points, MAX_POINTS) if len(points) > MAX_POINTS else points


def daily_closes(
    tenant: Tenant, bot: Bot | None, since: datetime | None
) -> list[tuple[date, Decimal]]:
    return [(at.date(), v) for at, v in _rollups(tenant, bot, EquityRollup.Period.DAY, since)]


def daily_flows(tenant: Tenant, bot: Bot | None, since: datetime | None) -> dict[date, Decimal]:
    """Net deposits per day for the account series (a bot's own series has no flows)."""
    if bot is not None:
        return {}
    rows = CapitalFlow.objects.for_tenant(tenant)
    if since is not None:
        rows = rows.filter(at__gte=since)
    flows: dict[date, Decimal] = defaultdict(Decimal)
    for signed, at in rows.annotate(signed=signed_flow()).values_list("signed", "at"):
        flows[at.date()] += signed
    return dict(flows)


HISTOGRAM_TRADES = 5000


def _merge_totals(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up trade totals from rollups and raw fills (None where a part has no rows)."""

    def pick(name: str, fn: Any) -> Any:
        values = [p[name] for p in parts if p[name] is not None]
        return fn(values) if values else None

    return {
        "count": sum(p["trades"] or 0 for p in parts),
        "wins": sum(p["wins"] or 0 for p in parts),
        "losses": sum(p["losses"] or 0 for p in parts),
        "gross_profit": pick("gross_profit", sum),
        "gross_loss": pick("gross_loss", sum),
        "largest_win": pick("largest_win", max),
        "largest_loss": pick("largest_loss", min),
    }


def trade_figures(
    tenant: Tenant, bot: Bot | None, since: datetime | None, now: datetime
) -> tuple[metrics.TradeMetrics, list[metrics.Bin]]:
    """Trade metrics over the range and the distribution of the latest trades' returns (%).

    Finished days come from ``TradeRollup``; the rest (today, and the part of the first day the
    range cuts) from the fills: three queries whatever the history.
    """
    today = now.date()
    first_full_day = (since + timedelta(days=1)).date() if since else None
    fills = closing_fills().filter(tenant=tenant)
    rollups = TradeRollup.objects.for_tenant(tenant).filter(day__lt=today)
    if bot is not None:
        fills, rollups = fills.filter(bot=bot), rollups.filter(bot=bot)
    raw = fills.filter(exec_time__gte=day_bounds(today)[0])
    if since is not None and first_full_day is not None:
        rollups = rollups.filter(day__gte=first_full_day)
        head = fills.filter(exec_time__gte=since, exec_time__lt=day_bounds(first_full_day)[0])
        raw = raw | head
    from_rollups = rollups.aggregate(
        trades=Sum("trades"),
        wins=Sum("wins"),
        losses=Sum("losses"),
        gross_profit=Sum("gross_profit"),
        gross_loss=Sum("gross_loss"),
        largest_win=Max("largest_win"),
        largest_loss=Min("largest_loss"),
    )
    totals = _merge_totals([from_rollups, trade_totals(raw)])
    trade = metrics.trade_metrics_from_totals(
        count=totals["count"],
        wins=totals["wins"],
        losses=totals["losses"],
        gross_profit=totals["gross_profit"],
        gross_loss=totals["gross_loss"],
        largest_win=totals["largest_win"],
        largest_loss=totals["largest_loss"],
    )
    latest = fills if since is None else fills.filter(exec_time__gte=since)
    rows = latest.order_by("-exec_time").values_list("realised_pnl", "price", "qty")
    returns = [
        pnl * 100 / (price * qty) for pnl, price, qty in rows[:HISTOGRAM_TRADES] if price * qty
    ]
    return trade, metrics.histogram(returns, HISTOGRAM_BINS)


def performance(
    tenant: Tenant, *, range_key: str, bot: Bot | None = None, now: datetime | None = None
) -> Performance:
    """Everything the performance page shows, in a fixed number of queries."""
    now = now or timezone.now()
    chosen = RANGES.get(range_key, RANGES[DEFAULT_RANGE])
    since = _since(chosen, now)
    equity = equity_series(tenant, bot, chosen, now)
    all_closes = daily_closes(tenant, bot, None)
    closes = [c for c in all_closes if since is None or c[0] >= since.date()]
    flows = daily_flows(tenant, bot, None)
    trade, bins = trade_figures(tenant, bot, since, now)
    return Performance(
        range=chosen,
        bot=bot,
        equity=equity,
        drawdown=metrics.drawdown_series(equity),
        equity_metrics=metrics.equity_metrics(closes, flows=flows),
        trade_metrics=trade,
        trade_returns=bins,
        monthly_returns=metrics.monthly_returns(all_closes, flows=flows),
    )
