"""The books: the one definition of equity, capital flows and performance, read by everyone.

The dashboard, the charts and their rollups, the performance figures, the circuit breaker and
billing all take their money figures from here, so each is defined once:

- **Account equity** is the exchange wallet's total equity, from the account's latest snapshot
  (``EquitySnapshot`` with ``account`` set). An account is a Bybit UID on one environment, whatever
  keys reach it.
- **Tenant equity** is the sum of its accounts' latest equity. A tenant with no account (dry run
  only) is shown the sum of its dry-run bots' virtual equity instead; virtual money is never
  added to real money.
- **A dry-run bot's equity** is virtual: ``DRY_RUN_EQUITY`` plus its own simulated realised and
  unrealised P&L, so its breaker trips as a live one would.
- **Net flows** over a period are deposits and incoming transfers minus withdrawals and outgoing
  transfers (``CapitalFlow``), after the period's start and up to its end.
- **Performance** over a period is the equity change minus the net flows: a deposit is never
  profit and a withdrawal never a loss.
- **The breaker's inputs** for a bot (``breaker_state``): the equity it trades with now (its
  account's, or its virtual equity in dry run), the day's starting equity plus the flows recorded
  since then, and the peak, which moves with flows (``bots.services.books``).

Snapshots carry our clock; a flow carries the exchange's booking time (``at``, for reports by
date) and ours (``recorded_at``). Whether a snapshot already holds a flow is decided on our clock:
flows are synced between reading the wallet and writing its snapshot, so a flow recorded after a
snapshot was taken is not in it. Comparing the two clocks would misplace flows wherever the
exchange's clock and ours differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from bots.market import market_environment_expression
from bots.models import Bot, BotPosition, CapitalFlow, EquitySnapshot
from bots.models import money_value as _money
from bots.risk import AccountState
from exchange.models import Candle, ExchangeAccount
from tradingsvc.lib.utc import utc_day_start as day_start

ZERO = Decimal(0)


def signed_flow() -> Case:
    """A flow's amount as it moves equity: into the account positive, out of it negative."""
    return Case(
        When(kind=CapitalFlow.Kind.DEPOSIT, then=F("amount")),
        default=-F("amount"),
        output_field=_money(),
    )


def performance(*, equity_start: Decimal, equity_end: Decimal, net_flows: Decimal) -> Decimal:
    """What trading made over a period: the equity change, less the capital moved in or out."""
    return equity_end - equity_start - net_flows


def net_flows(
    account_ids: Iterable[int], *, after: datetime | None = None, until: datetime | None = None
) -> Decimal:
    """Deposits minus withdrawals on these accounts in ``(after, until]``."""
    rows = CapitalFlow.objects.filter(account_id__in=list(account_ids))
    if after is not None:
        rows = rows.filter(at__gt=after)
    if until is not None:
        rows = rows.filter(at__lte=until)
    total = rows.aggregate(total=Sum(signed_flow()))["total"]
    return total if total is not None else ZERO


def account_equity(account_id: int) -> Decimal | None:
    """The account's equity: its latest snapshot, None before the first."""
    rows = EquitySnapshot.objects.filter(account_id=account_id, bot=None)
    return rows.order_by("-at").values_list("equity", flat=True).first()


def accounts_latest_equity(tenant_id: Any) -> dict[int, Decimal]:
    """Each of the tenant's accounts' latest equity (accounts with no snapshot yet are left out)."""
    latest = EquitySnapshot.objects.filter(account=OuterRef("pk"), bot=None).order_by("-at")
    return {
        pk: equity
        for pk, equity in ExchangeAccount.objects.filter(tenant_id=tenant_id)
        .annotate(equity=Subquery(latest.values("equity")[:1], output_field=_money()))
        .values_list("pk", "equity")
        if equity is not None
    }


def accounts_equity_sum(tenant_id: Any) -> Decimal | None:
    """The tenant's accounts' equity summed; None when no account has a snapshot yet."""
    values = accounts_latest_equity(tenant_id).values()
    return sum(values, ZERO) if values else None


def tenant_equity(
    *, accounts_total: Decimal | None, dry_run_equities: Iterable[Decimal]
) -> Decimal:
    """The tenant's equity: its accounts' sum; with no account, its dry-run bots' virtual sum."""
    if accounts_total is not None:
        return accounts_total
    return sum(dry_run_equities, ZERO)


def dry_run_equity(*, realised: Decimal, unrealised: Decimal) -> Decimal:
    """A dry-run bot's virtual equity: its notional start plus what its simulated trades made."""
    return Decimal(settings.DRY_RUN_EQUITY) + realised + unrealised


def unrealised_pnl(qty: Decimal, avg_price: Decimal, price: Decimal | None) -> Decimal:
    """A position's open P&L at ``price`` (zero when flat or unpriced)."""
    if price is None or qty == 0:
        return ZERO
    return qty * (price - avg_price)


@dataclass(frozen=True)
class Baseline:
    """Where "today" starts for a series: the last snapshot at or before midnight (else today's
    first), and when it was taken, so that only flows after it are added to it."""

    equity: Decimal
    at: datetime


def _baseline_subqueries(series: Q, midnight: datetime) -> dict[str, Subquery]:
    """Annotations for a series' latest equity and its day baseline (indexed LIMIT 1 lookups)."""
    rows = EquitySnapshot.objects.filter(series)
    before = rows.filter(at__lte=midnight).order_by("-at")
    first_today = rows.filter(at__gt=midnight).order_by("at")
    return {
        "latest": Subquery(rows.order_by("-at").values("equity")[:1], output_field=_money()),
        "base_before": Subquery(before.values("equity")[:1], output_field=_money()),
        "base_before_at": Subquery(before.values("at")[:1]),
        "base_today": Subquery(first_today.values("equity")[:1], output_field=_money()),
        "base_today_at": Subquery(first_today.values("at")[:1]),
    }


def _baseline(row: dict[str, Any]) -> Baseline | None:
    if row["base_before"] is not None:
        return Baseline(row["base_before"], row["base_before_at"])
    if row["base_today"] is not None:
        return Baseline(row["base_today"], row["base_today_at"])
    return None


@dataclass(frozen=True)
class AccountBooks:
    """An account's figures for the breaker: latest equity, the day's baseline and flows since."""

    equity: Decimal | None
    baseline: Baseline | None
    flows_since_baseline: Decimal


_ACCOUNT_COLUMNS = ("pk", "latest", "base_before", "base_before_at", "base_today", "base_today_at")


def accounts_books(account_ids: Iterable[int], *, now: datetime) -> dict[int, AccountBooks]:
    """Each account's latest equity, day baseline and the net flows since it: two queries."""
    ids = list(set(account_ids))
    if not ids:
        return {}
    midnight = day_start(now)
    rows = (
        ExchangeAccount.objects.filter(pk__in=ids)
        .annotate(**_baseline_subqueries(Q(account=OuterRef("pk"), bot=None), midnight))
        .values(*_ACCOUNT_COLUMNS)
    )
    found = {row["pk"]: (row["latest"], _baseline(row)) for row in rows}
    earliest = min((base.at for _, base in found.values() if base is not None), default=midnight)
    flows: dict[int, list[tuple[datetime, Decimal]]] = {}
    # "After the baseline" is judged on our clock: a flow recorded after the snapshot was taken is
    # not in its wallet reading (flows are synced before each snapshot is written), whatever time
    # the exchange's clock put on it.
    for account_id, at, amount in (
        CapitalFlow.objects.filter(account_id__in=ids, recorded_at__gt=earliest)
        .annotate(signed=signed_flow())
        .values_list("account_id", "recorded_at", "signed")
    ):
        flows.setdefault(account_id, []).append((at, amount))
    out = {}
    for account_id, (latest, base) in found.items():
        since = base.at if base is not None else midnight
        moved = sum((a for at, a in flows.get(account_id, []) if at > since), ZERO)
        out[account_id] = AccountBooks(latest, base, moved)
    return out


@dataclass(frozen=True)
class DryRunBooks:
    """A dry-run bot's virtual equity now and its day baseline (from its own snapshots)."""

    equity: Decimal
    baseline: Baseline | None


_DRY_RUN_COLUMNS = (
    "pk",
    "qty",
    "avg",
    "realised",
    "price",
    "latest",
    "base_before",
    "base_before_at",
    "base_today",
    "base_today_at",
)


def dry_run_books(bots: Sequence[Bot], *, now: datetime) -> dict[int, DryRunBooks]:
    """Virtual equity and day baseline of dry-run bots: two queries, whatever their history."""
    if not bots:
        return {}
    midnight = day_start(now)
    position = BotPosition.objects.filter(bot=OuterRef("pk"), symbol=OuterRef("symbol"))
    last_close = Candle.objects.filter(
        environment=OuterRef("market_environment"),
        symbol=OuterRef("symbol"),
        interval=OuterRef("timeframe"),
    ).order_by("-start")
    rows = (
        Bot.objects.filter(pk__in=[b.pk for b in bots])
        .annotate(market_environment=market_environment_expression())
        .annotate(
            qty=Coalesce(Subquery(position.values("qty")[:1]), Value(ZERO), output_field=_money()),
            avg=Coalesce(
                Subquery(position.values("avg_price")[:1]), Value(ZERO), output_field=_money()
            ),
            realised=Coalesce(
                Subquery(position.values("realised_pnl")[:1]), Value(ZERO), output_field=_money()
            ),
            price=Subquery(last_close.values("close")[:1], output_field=_money()),
            **_baseline_subqueries(Q(bot=OuterRef("pk")), midnight),
        )
        .values(*_DRY_RUN_COLUMNS)
    )
    out = {}
    for row in rows:
        equity = dry_run_equity(
            realised=row["realised"],
            unrealised=unrealised_pnl(row["qty"], row["avg"], row["price"]),
        )
        out[row["pk"]] = DryRunBooks(equity, _baseline(row))
    return out


def breaker_state(
    bot: Bot,
    *,
    accounts: dict[int, AccountBooks],
    dry_runs: dict[int, DryRunBooks],
    fallback_equity: Decimal | None = None,
) -> AccountState | None:
    """The breaker's view of one bot, net of flows; None when its equity is not known yet.

    Live: its account's equity, the day's baseline plus the flows since it, and the bot's peak.
    Dry run: its virtual equity, its own day baseline (no flows), and the bot's peak.
    ``fallback_equity`` is a wallet read just now, for a live account with no snapshot yet.
    """
    if bot.mode == Bot.Mode.DRY_RUN:
        books = dry_runs.get(bot.pk)
        equity = books.equity if books else dry_run_equity(realised=ZERO, unrealised=ZERO)
        base = books.baseline.equity if books and books.baseline else equity
        return AccountState(equity, base, max(bot.peak_equity, equity))
    account_id = bot.connection.account_id if bot.connection else None
    found = accounts.get(account_id) if account_id is not None else None
    current = found.equity if found and found.equity is not None else fallback_equity
    if current is None:
        return None
    if found is not None and found.baseline is not None:
        day_start_equity = found.baseline.equity + found.flows_since_baseline
    else:
        day_start_equity = current
    return AccountState(current, day_start_equity, max(bot.peak_equity, current))


@dataclass(frozen=True)
class FlowAt:
    """A flow as it moved the tenant's equity: signed, with the tenant's equity just before it."""

    recorded_at: datetime
    amount: Decimal
    equity_before: Decimal | None


@dataclass(frozen=True)
class TenantPeriod:
    """A tenant's real-money books over ``(start, end]``: the equity at both ends (None when no
    account had a snapshot yet) and the flows between them, in order."""

    equity_start: Decimal | None
    equity_end: Decimal | None
    flows: tuple[FlowAt, ...]

    @property
    def net_flows(self) -> Decimal:
        return sum((f.amount for f in self.flows), ZERO)


def tenant_period(tenant_id: Any, *, start: datetime, end: datetime) -> TenantPeriod:
    """The tenant's accounts' equity at ``start`` and ``end`` and the flows in between (billing).

    Equity at a time is each account's latest snapshot taken by then plus the flows recorded
    after that snapshot and by then, summed over the tenant's accounts (the breaker's baseline
    rule). The period's flows are counted on our clock (``recorded_at``), the clock that says
    whether a snapshot holds a flow: counting them on the exchange's would let a flow booked
    before the end but recorded after it fall between two periods, billed as profit in the next.
    Dry-run (virtual) equity is never counted. Queries: three, plus one per flow in the period.
    """
    account_ids = list(
        ExchangeAccount.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True)
    )
    if not account_ids:
        return TenantPeriod(None, None, ())
    flows = list(
        CapitalFlow.objects.filter(
            account_id__in=account_ids, recorded_at__gt=start, recorded_at__lte=end
        )
        .annotate(signed=signed_flow())
        .order_by("recorded_at", "pk")
        .values_list("pk", "recorded_at", "signed")
    )
    equity_start = _accounts_equity_at(account_ids, start)
    out = []
    for pk, recorded_at, amount in flows:
        before = _accounts_equity_at(account_ids, recorded_at, before_flow=pk)
        out.append(FlowAt(recorded_at, amount, before))
    return TenantPeriod(equity_start, _accounts_equity_at(account_ids, end), tuple(out))


def _accounts_equity_at(
    account_ids: list[int], at: datetime, *, before_flow: int | None = None
) -> Decimal | None:
    """The accounts' summed equity at ``at`` (just before flow ``before_flow`` when given); None
    when no account had a snapshot by then. Two queries."""
    snapshots = EquitySnapshot.objects.filter(account=OuterRef("pk"), bot=None)
    snapshots = (
        snapshots.filter(at__lt=at) if before_flow is not None else snapshots.filter(at__lte=at)
    )
    snapshots = snapshots.order_by("-at")
    found = {
        pk: (equity, snap_at)
        for pk, equity, snap_at in ExchangeAccount.objects.filter(pk__in=account_ids)
        .annotate(
            equity=Subquery(snapshots.values("equity")[:1], output_field=_money()),
            snap_at=Subquery(snapshots.values("at")[:1]),
        )
        .values_list("pk", "equity", "snap_at")
        if equity is not None
    }
    if not found:
        return None
    earliest = min(snap_at for _, snap_at in found.values())
    later = CapitalFlow.objects.filter(
        account_id__in=list(found), recorded_at__gt=earliest, recorded_at__lte=at
    )
    if before_flow is not None:
        # Flows recorded at the same instant are ordered by id, as the period lists them.
        later = later.exclude(Q(recorded_at=at) & Q(pk__gte=before_flow))
    moved: dict[int, Decimal] = {}
    for account_id, recorded_at, amount in later.annotate(signed=signed_flow()).values_list(
        "account_id", "recorded_at", "signed"
    ):
        if recorded_at > found[account_id][1]:
            moved[account_id] = moved.get(account_id, ZERO) + amount
    return sum((equity + moved.get(pk, ZERO) for pk, (equity, _) in found.items()), ZERO)
