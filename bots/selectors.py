"""Reads of a tenant's bots for the web app, always scoped through ``for_tenant``.

Every figure a page shows comes from here, in a fixed number of queries however much history the
tenant has: latest values are correlated subqueries on indexed columns, lists are limited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts.models import Tenant
from bots.market import market_environment_expression
from bots.models import (
    Alert,
    Bot,
    BotFill,
    BotPosition,
    BotTick,
    EquitySnapshot,
    KillSwitch,
    OrderIntent,
)
from exchange.models import Candle
from reports.models import EquityRollup

ZERO = Decimal(0)
RECENT_ROWS = 10


@dataclass(frozen=True)
class BotFigures:
    """One bot on the dashboard: state, equity and P&L today and in total."""

    bot: Bot
    position_qty: Decimal
    position_avg_price: Decimal
    last_price: Decimal | None
    unrealised: Decimal
    realised: Decimal
    pnl_total: Decimal
    pnl_today: Decimal
    equity: Decimal | None  # dry run: its notional capital plus P&L; live: the account's
    pnl_today_pct: Decimal | None = None  # of the capital it trades with (see dashboard_summary)
    pnl_total_pct: Decimal | None = None


@dataclass(frozen=True)
class DashboardSummary:
    """Everything the dashboard shows, as of ``as_of``."""

    as_of: datetime
    bots: list[BotFigures]
    equity: Decimal
    pnl_today: Decimal
    pnl_today_pct: Decimal | None
    pnl_total: Decimal
    pnl_total_pct: Decimal | None
    orders: list[OrderIntent]
    fills: list[BotFill]
    alerts: list[Alert]
    emergency_stop: KillSwitch | None

    @property
    def open_positions(self) -> list[BotFigures]:
        return [b for b in self.bots if b.position_qty != 0]


def tenant_bots(tenant: Tenant) -> QuerySet[Bot]:
    return Bot.objects.for_tenant(tenant).select_related("template", "connection")


def _money() -> DecimalField[Decimal, Decimal]:
    return DecimalField(max_digits=30, decimal_places=10)


def _bots_with_figures(tenant: Tenant, day_start: datetime) -> QuerySet[Bot]:
    """Bots annotated with position, last price and the P&L recorded before today: one query."""
    position = BotPosition.objects.filter(bot=OuterRef("pk"), symbol=OuterRef("symbol"))
    before_today = (
        EquitySnapshot.objects.filter(tenant=tenant, bot=OuterRef("pk"), at__lt=day_start)
        .order_by("-at")
        .annotate(pnl=F("realised_pnl") + F("unrealised_pnl"))
    )
    last_close = Candle.objects.filter(
        environment=OuterRef("market_environment"),
        symbol=OuterRef("symbol"),
        interval=OuterRef("timeframe"),
    ).order_by("-start")
    return tenant_bots(tenant).annotate(
        market_environment=market_environment_expression(),
        position_qty=Subquery(position.values("qty")[:1], output_field=_money()),
        position_avg=Subquery(position.values("avg_price")[:1], output_field=_money()),
        position_realised=Subquery(position.values("realised_pnl")[:1], output_field=_money()),
        last_price=Subquery(last_close.values("close")[:1], output_field=_money()),
        pnl_before_today=Subquery(before_today.values("pnl")[:1], output_field=_money()),
    )


def _figures(bot: Bot) -> BotFigures:
    qty = getattr(bot, "position_qty", None) or ZERO
    avg = getattr(bot, "position_avg", None) or ZERO
    price = getattr(bot, "last_price", None)
    realised = getattr(bot, "position_realised", None) or ZERO
    unrealised = qty * (price - avg) if price is not None and qty else ZERO
    total = realised + unrealised
    before_today = getattr(bot, "pnl_before_today", None) or ZERO
    dry_run = bot.connection_id is None
    return BotFigures(
        bot=bot, position_qty=qty, position_avg_price=avg, last_price=price,
        unrealised=unrealised, realised=realised, pnl_total=total,
        pnl_today=total - before_today,
        equity=Decimal(settings.DRY_RUN_EQUITY) + total if dry_run else None,
    )  # fmt: skip


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.01")) if whole > 0 else None


def day_start(now: datetime) -> datetime:
    """Midnight UTC: "today" is the exchange's day, the same for every client."""
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


def dashboard_summary(tenant: Tenant, *, now: datetime | None = None) -> DashboardSummary:
    """The dashboard's figures in a constant number of queries (eight)."""
    now = now or timezone.now()
    bots = [_figures(b) for b in _bots_with_figures(tenant, day_start(now))]
    # The account's latest equity is its current hour's close: one row, whatever the history.
    wallet = (
        EquityRollup.objects.for_tenant(tenant)
        .filter(bot=None, period=EquityRollup.Period.HOUR)
        .order_by("-start")
        .values_list("close", flat=True)
        .first()
    )
    pnl_today = sum((b.pnl_today for b in bots), ZERO)
    pnl_total = sum((b.pnl_total for b in bots), ZERO)
    dry_run_equity = sum((b.equity for b in bots if b.equity is not None), ZERO)
    equity = (wallet or ZERO) + dry_run_equity
    bots = [_with_percentages(b, wallet or ZERO) for b in bots]
    return DashboardSummary(
        as_of=now,
        bots=bots,
        equity=equity,
        pnl_today=pnl_today,
        pnl_today_pct=_percent(pnl_today, equity - pnl_today),
        pnl_total=pnl_total,
        pnl_total_pct=_percent(pnl_total, equity - pnl_total),
        orders=list(recent_orders(tenant)[:RECENT_ROWS]),
        fills=list(recent_fills(tenant)[:RECENT_ROWS]),
        alerts=list(open_alerts(tenant)[:20]),
        emergency_stop=active_emergency_stop(tenant),
    )


def _with_percentages(figures: BotFigures, account_equity: Decimal) -> BotFigures:
    """A bot's P&L as a percentage of the capital it trades with: its notional equity in dry
    run, the account's equity live (what its position sizes come from)."""
    if figures.equity is not None:
        capital = figures.equity - figures.pnl_total
    else:
        capital = account_equity - figures.pnl_total
    return replace(
        figures,
        pnl_today_pct=_percent(figures.pnl_today, capital + figures.pnl_total - figures.pnl_today),
        pnl_total_pct=_percent(figures.pnl_total, capital),
    )


def recent_orders(tenant: Tenant) -> QuerySet[OrderIntent]:
    """Newest first; ``has_fill`` tells a filled order from one the exchange only accepted yet
    (the intent's state follows the order stream and reconciliation, a fill can come first)."""
    fills = BotFill.objects.filter(intent=OuterRef("pk")).values("intent").order_by()
    orders: QuerySet[OrderIntent] = (
        OrderIntent.objects.for_tenant(tenant)
        .select_related("bot")
        .annotate(
            has_fill=Exists(BotFill.objects.filter(intent=OuterRef("pk"))),
            fill_qty=Subquery(fills.annotate(q=Sum("qty")).values("q"), output_field=_money()),
            fill_avg_price=Subquery(
                fills.annotate(p=Sum(F("qty") * F("price")) / Sum("qty")).values("p"),
                output_field=_money(),
            ),
        )
        .order_by("-created_at")
    )
    return orders


def recent_fills(tenant: Tenant) -> QuerySet[BotFill]:
    return BotFill.objects.for_tenant(tenant).select_related("bot").order_by("-exec_time")


def open_alerts(tenant: Tenant) -> QuerySet[Alert]:
    return Alert.objects.for_tenant(tenant).filter(dismissed_at=None).select_related("bot")


def active_emergency_stop(tenant: Tenant) -> KillSwitch | None:
    """The tenant's engaged emergency stop (a tenant-scope kill switch), if any."""
    return (
        KillSwitch.objects.filter(tenant=tenant, scope=KillSwitch.Scope.TENANT, active=True)
        .order_by("-engaged_at")
        .first()
    )


def bot_activity(tenant: Tenant, *, since: timedelta = timedelta(days=30)) -> QuerySet[BotTick]:
    """Ticks that did or decided something, newest first, with the strategy's reasons."""
    return (
        BotTick.objects.filter(bot__tenant=tenant, started_at__gte=timezone.now() - since)
        .exclude(Q(reasons="") & Q(error="") & ~Q(signal__has_key="no_decision"))
        .select_related("bot")
        .order_by("-candle_start")
    )
