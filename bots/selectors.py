"""Reads of a tenant's bots for the web app, always scoped through ``for_tenant``.

Every figure a page shows comes from here, in a fixed number of queries however much history the
tenant has: latest values are correlated subqueries on indexed columns, lists are limited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts.models import Tenant
from bots.books import accounts_latest_equity, dry_run_equity, tenant_equity
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
from bots.models import money_value as _money
from exchange.models import Candle
from tradingsvc.lib.utc import utc_day_start as day_start

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


def accounts_in_use(*, include_stopped: bool = False) -> list[int]:
    """The exchange accounts whose keys carry bots: what reconciliation and snapshots visit."""
    bots = Bot.objects.exclude(connection__account=None).exclude(state=Bot.State.DRAFT)
    if not include_stopped:
        bots = bots.exclude(state=Bot.State.STOPPED)
    return sorted(set(bots.values_list("connection__account_id", flat=True)))


def tenant_bots(tenant: Tenant) -> QuerySet[Bot]:
    """The tenant's bots, each marked ``breaker_paused`` while a circuit-breaker trip is open
    (the pages then say what resuming does)."""
    trips = Alert.objects.filter(bot=OuterRef("pk"), kind__startswith="breaker.", dismissed_at=None)
    bots: QuerySet[Bot] = (
        Bot.objects.for_tenant(tenant)
        .select_related("template", "connection")
        .annotate(breaker_paused=Exists(trips))
    )
    return bots


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
    dry_run = bot.mode == Bot.Mode.DRY_RUN
    return BotFigures(
        bot=bot,
        position_qty=qty,
        position_avg_price=avg,
        last_price=price,
        unrealised=unrealised,
        realised=realised,
        pnl_total=total,
        pnl_today=total - before_today,
        equity=dry_run_equity(realised=realised, unrealised=unrealised) if dry_run else None,
    )


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.01")) if whole > 0 else None


def dashboard_summary(tenant: Tenant, *, now: datetime | None = None) -> DashboardSummary:
    """The dashboard's figures in a constant number of queries (eight)."""
    now = now or timezone.now()
    bots = [_figures(b) for b in _bots_with_figures(tenant, day_start(now))]
    by_account = accounts_latest_equity(tenant.pk)
    pnl_today = sum((b.pnl_today for b in bots), ZERO)
    pnl_total = sum((b.pnl_total for b in bots), ZERO)
    equity = tenant_equity(
        accounts_total=sum(by_account.values(), ZERO) if by_account else None,
        dry_run_equities=[b.equity for b in bots if b.equity is not None],
    )
    bots = [_with_percentages(b, _account_of(b.bot, by_account)) for b in bots]
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


def _account_of(bot: Bot, by_account: dict[int, Decimal]) -> Decimal:
    """The equity a live bot trades with: its own exchange account's."""
    account_id = bot.connection.account_id if bot.connection else None
    return by_account.get(account_id, ZERO) if account_id is not None else ZERO


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
    """The tenant's engaged emergency stop (a tenant-scope kill switch it engaged), if any."""
    return (
        KillSwitch.objects.filter(
            tenant=tenant, scope=KillSwitch.Scope.TENANT, active=True, by_operator=False
        )
        .order_by("-engaged_at")
        .first()
    )


def active_operator_halt(tenant: Tenant) -> KillSwitch | None:
    """A switch our operators engaged that stops this tenant's trading (everything, or this
    tenant): shown on every page; only an operator releases it."""
    return (
        KillSwitch.objects.filter(active=True, by_operator=True)
        .filter(Q(scope=KillSwitch.Scope.GLOBAL) | Q(scope=KillSwitch.Scope.TENANT, tenant=tenant))
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
