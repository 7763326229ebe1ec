"""The dashboard's figures, worked out by hand: P&L today and total, amounts and percentages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bots.models import BotPosition, EquitySnapshot, RiskTemplate
from bots.selectors import dashboard_summary
from bots.services.tuning import bot_create
from exchange.models import Candle
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 10, 14, 0, tzinfo=UTC)


def test_dry_run_bot_pnl_today_and_total_with_percentages(settings):
    settings.DRY_RUN_EQUITY = "10000"
    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="b",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    # Long 0.1 at 50,000 with 20 realised; the last close is 51,000: unrealised 0.1 x 1,000 = 100.
    BotPosition.objects.create(
        tenant=owner.tenant,
        bot=bot,
        symbol="BTCUSDT",
        qty=D("0.1"),
        avg_price=D("50000"),
        realised_pnl=D("20"),
    )
    Candle.objects.create(
        symbol="BTCUSDT",
        interval=bot.timeframe,
        start=NOW - timedelta(minutes=15),
        open=1,
        high=1,
        low=1,
        close=D("51000"),
        volume=1,
    )
    # Yesterday's last snapshot: 10 realised + 30 unrealised = 40 before today.
    EquitySnapshot.objects.create(
        tenant=owner.tenant,
        bot=bot,
        at=NOW - timedelta(hours=15),
        equity=D("10040"),
        realised_pnl=D("10"),
        unrealised_pnl=D("30"),
    )

    summary = dashboard_summary(owner.tenant, now=NOW)

    (row,) = summary.bots
    assert (row.unrealised, row.pnl_total, row.pnl_today) == (D("100"), D("120"), D("80"))
    assert row.equity == D("10120")
    assert row.pnl_total_pct == D("1.20")  # 120 / 10,000
    assert row.pnl_today_pct == D("0.80")  # 80 / 10,040 (equity at the start of the day)
    assert (summary.equity, summary.pnl_today, summary.pnl_total) == (D("10120"), D("80"), D("120"))
    assert (summary.pnl_today_pct, summary.pnl_total_pct) == (D("0.80"), D("1.20"))
    assert [p.bot.pk for p in summary.open_positions] == [bot.pk]
