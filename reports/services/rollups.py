"""Keeping ``EquityRollup`` in step with every equity snapshot (and rebuilding it from them)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest, Least

from bots.events import BotsEvent, SnapshotTaken
from bots.models import EquitySnapshot
from reports.models import EquityRollup
from tradingsvc.lib.utc import utc_day_start

Period = EquityRollup.Period


def period_start(at: datetime, period: str) -> datetime:
    """The hour or the UTC day that contains ``at``."""
    if period == Period.DAY:
        return utc_day_start(at)
    return at.replace(minute=0, second=0, microsecond=0)


def on_bots_event(event: BotsEvent) -> None:
    """``BOTS_EVENT_HANDLERS``: a tenant's or bot's snapshot is folded in; an account's series is
    read raw (by the breaker and the books), its sum being the tenant's."""
    if isinstance(event, SnapshotTaken) and event.snapshot.account_id is None:
        rollup_record(event.snapshot)


def rollup_record(snapshot: EquitySnapshot) -> None:
    """Fold one snapshot into its hour and its day: an update, or an insert for a new period."""
    for period in (Period.HOUR, Period.DAY):
        _fold(snapshot, period)


def _fold(snapshot: EquitySnapshot, period: str) -> None:
    start = period_start(snapshot.at, period)
    key = {"tenant_id": snapshot.tenant_id, "bot_id": snapshot.bot_id, "period": period}
    value, at = snapshot.equity, snapshot.at
    for _attempt in range(2):
        updated = EquityRollup.objects.filter(**key, start=start).update(
            high=Greatest("high", Value(value)),
            low=Least("low", Value(value)),
            close=Case(When(close_at__lte=at, then=Value(value)), default=F("close")),
            open=Case(When(open_at__gt=at, then=Value(value)), default=F("open")),
            open_at=Least("open_at", Value(at)),
            close_at=Greatest("close_at", Value(at)),
        )
        if updated:
            return
        try:
            with transaction.atomic():
                EquityRollup.objects.create(
                    **key,
                    start=start,
                    open=value,
                    high=value,
                    low=value,
                    close=value,
                    open_at=at,
                    close_at=at,
                )
            return
        except IntegrityError:  # another worker created it first: fold into theirs
            continue


def rollups_rebuild(*, tenant_id: UUID) -> int:
    """Recompute a tenant's rollups from its snapshots; returns the rows written.

    For seeding and repair; the running system folds each snapshot as it is taken.
    """
    rows: dict[tuple[int | None, str, datetime], EquityRollup] = {}
    snapshots = (
        EquitySnapshot.objects.filter(tenant_id=tenant_id)
        .order_by("at")
        .values_list("bot_id", "at", "equity")
    )
    for bot_id, at, equity in snapshots.iterator(chunk_size=5000):
        for period in (Period.HOUR, Period.DAY):
            key = (bot_id, period, period_start(at, period))
            row = rows.get(key)
            if row is None:
                rows[key] = EquityRollup(
                    tenant_id=tenant_id,
                    bot_id=bot_id,
                    period=period,
                    start=key[2],
                    open=equity,
                    high=equity,
                    low=equity,
                    close=equity,
                    open_at=at,
                    close_at=at,
                )
                continue
            row.high, row.low = max(row.high, equity), min(row.low, equity)
            row.close, row.close_at = equity, at
    with transaction.atomic():
        EquityRollup.objects.filter(tenant_id=tenant_id).delete()
        EquityRollup.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)
