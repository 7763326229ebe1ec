"""The performance page's data: chart series, daily closes, trade totals; bounded whatever the history.

Charts read the hour or day rollups (a few hundred rows for any range) or, for a day or a week,
raw snapshots; every series is thinned to ``MAX_POINTS``. Trade figures are SQL aggregates, so
100,000 fills cost one scan, not 100,000 Python objects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Floor
from django.utils import timezone

from accounts.models import Tenant
from bots.models import Bot, BotFill, CapitalFlow, EquitySnapshot
from reports import metrics
from reports.models import EquityRollup

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
    for kind, amount, at in rows.values_list("kind", "amount", "at"):
        flows[at.date()] += amount if kind == CapitalFlow.Kind.DEPOSIT else -amount
    return dict(flows)


def _closing_fills(tenant: Tenant, bot: Bot | None, since: datetime | None) -> QuerySet[BotFill]:
    """Fills that closed a position (their P&L is more than their fee): the "trades"."""
    fills = BotFill.objects.for_tenant(tenant).exclude(realised_pnl=-F("fee"))
    if bot is not None:
        fills = fills.filter(bot=bot)
    if since is not None:
        fills = fills.filter(exec_time__gte=since)
    return fills


_RETURN_PCT = ExpressionWrapper(
    F("realised_pnl") * 100 / (F("price") * F("qty")),
    output_field=DecimalField(max_digits=30, decimal_places=10),
)


def trade_figures(
    tenant: Tenant, bot: Bot | None, since: datetime | None
) -> tuple[metrics.TradeMetrics, list[metrics.Bin]]:
    """Trade metrics and the distribution of trade returns (%), in two aggregate queries."""
    fills = _closing_fills(tenant, bot, since).annotate(ret=_RETURN_PCT)
    pnl = F("realised_pnl")
    totals = fills.aggregate(
        count=Count("id"),
        wins=Count("id", filter=Q(realised_pnl__gt=0)),
        losses=Count("id", filter=Q(realised_pnl__lt=0)),
        gross_profit=Sum(pnl, filter=Q(realised_pnl__gt=0)),
        gross_loss=Sum(pnl, filter=Q(realised_pnl__lt=0)),
        largest_win=Max(pnl, filter=Q(realised_pnl__gt=0)),
        largest_loss=Min(pnl, filter=Q(realised_pnl__lt=0)),
        low=Min("ret"),
        high=Max("ret"),
    )
    trade = metrics.trade_metrics_from_totals(
        count=totals["count"], wins=totals["wins"], losses=totals["losses"],
        gross_profit=totals["gross_profit"], gross_loss=totals["gross_loss"],
        largest_win=totals["largest_win"], largest_loss=totals["largest_loss"],
    )  # fmt: skip
    if not totals["count"]:
        return trade, []
    low, high = Decimal(totals["low"]), Decimal(totals["high"])
    if low == high:
        return trade, [metrics.Bin(low=low, high=high, count=totals["count"])]
    width = (high - low) / HISTOGRAM_BINS
    counts = (
        fills.annotate(bin=Floor((F("ret") - low) / width))
        .values("bin")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_bin = [0] * HISTOGRAM_BINS
    for row in counts:
        per_bin[min(int(row["bin"]), HISTOGRAM_BINS - 1)] += row["n"]
    bins = [
        metrics.Bin(low=low + width * i, high=low + width * (i + 1), count=n)
        for i, n in enumerate(per_bin)
    ]
    return trade, bins


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
    trade, bins = trade_figures(tenant, bot, since)
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
