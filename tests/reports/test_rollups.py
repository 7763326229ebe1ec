"""Rollups agree with the raw rows they summarise: equity per hour/day, trades per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bots.models import BotFill, EquitySnapshot, RiskTemplate
from bots.services.tuning import bot_create
from demo.perf_data import seed_history
from reports import metrics
from reports.models import EquityRollup
from reports.selectors import RANGES, trade_figures
from reports.services.rollups import rollup_record, rollups_rebuild
from reports.services.trades import closing_fills, trade_totals
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot():
    owner = client_with_2fa()
    return bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="b",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot


def _rows():
    return sorted(
        EquityRollup.objects.values_list(
            "bot_id", "period", "start", "open", "high", "low", "close"
        )
    )


def test_folding_each_snapshot_equals_rebuilding_from_all_of_them(bot):
    start = datetime(2026, 3, 1, 23, 45, tzinfo=UTC)  # three on March 1st, four on the 2nd
    values = ["100", "103", "99", "101", "120", "95", "97"]
    snapshots = []
    # Out of order on purpose: a late snapshot must not overwrite a newer close.
    for i in [0, 1, 3, 2, 4, 6, 5]:
        snapshots.append(
            EquitySnapshot.objects.create(
                tenant=bot.tenant,
                bot=bot,
                at=start + timedelta(minutes=5 * i),
                equity=Decimal(values[i]),
            )
        )
        rollup_record(snapshots[-1])
    folded = _rows()
    rollups_rebuild(tenant_id=bot.tenant_id)
    assert folded == _rows()
    day = EquityRollup.objects.get(period="day", start=datetime(2026, 3, 1, tzinfo=UTC))
    assert (day.open, day.high, day.low, day.close) == (100, 103, 99, 99)
    next_day = EquityRollup.objects.get(period="day", start=datetime(2026, 3, 2, tzinfo=UTC))
    assert (next_day.open, next_day.high, next_day.low, next_day.close) == (101, 120, 95, 97)


def test_trade_figures_from_rollups_equal_an_aggregate_over_every_fill(bot):
    now = datetime(2026, 6, 15, 13, 7, tzinfo=UTC)
    seed_history(bot=bot, orders=3000, days=120, now=now)
    for range_key in RANGES:
        _check_range(bot, now, range_key)
    assert BotFill.objects.count() == 3000


def _check_range(bot, now, range_key):
    chosen = RANGES[range_key]
    since = now - chosen.span if chosen.span else None
    figures, bins = trade_figures(bot.tenant, None, since, now)
    fills = closing_fills().filter(tenant=bot.tenant)
    if since is not None:
        fills = fills.filter(exec_time__gte=since)
    raw = trade_totals(fills)
    expected = metrics.trade_metrics_from_totals(
        count=raw["trades"],
        wins=raw["wins"],
        losses=raw["losses"],
        gross_profit=raw["gross_profit"],
        gross_loss=raw["gross_loss"],
        largest_win=raw["largest_win"],
        largest_loss=raw["largest_loss"],
    )
    assert figures == expected, range_key
    assert sum(b.count for b in bins) == min(raw["trades"], 5000)
