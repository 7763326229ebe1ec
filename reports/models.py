"""Equity rolled up per hour and per day: what charts and ratios read instead of raw snapshots.

A year of 5-minute snapshots is 105,120 rows per series; the performance page must answer in
milliseconds whatever the history, so every snapshot also updates its hour and its day here
(open, high, low, close). A chart then reads a few hundred rows for any range.
"""

from __future__ import annotations

from django.db import models

from accounts.models import Tenant, TenantOwnedQuerySet
from bots.models import Bot, money_field


class EquityRollup(models.Model):
    """Open/high/low/close of equity over one hour or one day, per tenant (``bot`` empty) or bot."""

    class Period(models.TextChoices):
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="equity_rollups")
    bot = models.ForeignKey(
        Bot, on_delete=models.CASCADE, null=True, blank=True, related_name="equity_rollups"
    )
    period = models.CharField(max_length=4, choices=Period.choices)
    start = models.DateTimeField()
    open = money_field()
    high = money_field()
    low = money_field()
    close = money_field()
    open_at = models.DateTimeField(null=True, help_text="time of the snapshot that set the open")
    close_at = models.DateTimeField(help_text="time of the snapshot that set the close")

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period", "start"],
                condition=models.Q(bot__isnull=True),
                name="equityrollup_unique_tenant_period_start",
            ),
            models.UniqueConstraint(
                fields=["bot", "period", "start"],
                condition=models.Q(bot__isnull=False),
                name="equityrollup_unique_bot_period_start",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "bot", "period", "start"])]

    def __str__(self) -> str:
        return f"{self.period} {self.start:%Y-%m-%d %H:%M} close {self.close}"


class TradeRollup(models.Model):
    """A finished UTC day of closed trades per bot: counts and sums for the performance figures.

    Days before today are final (recomputed for a week to take in late fills); today is always
    read from the fills themselves, so the page is never stale.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="trade_rollups")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="trade_rollups")
    day = models.DateField()
    trades = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)
    gross_profit = money_field(default=0)
    gross_loss = money_field(default=0)  # negative or zero
    largest_win = money_field(null=True, blank=True)
    largest_loss = money_field(null=True, blank=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "day"], name="traderollup_unique_bot_day")
        ]
        indexes = [models.Index(fields=["tenant", "day"])]

    def __str__(self) -> str:
        return f"{self.day} bot {self.bot_id}: {self.trades} trades"
