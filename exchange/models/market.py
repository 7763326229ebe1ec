"""Market data kept once for everyone: candles, and which symbol/interval pairs are in use."""

from __future__ import annotations

from django.db import models


class Candle(models.Model):
    """One closed candle of a linear contract. Bots read candles from here, never from Bybit.

    ``start`` is the candle's open time (aware UTC). Only confirmed (closed) candles are stored;
    rows are upserted, so a re-fetch corrects a candle instead of duplicating it.
    """

    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    start = models.DateTimeField()
    open = models.DecimalField(max_digits=30, decimal_places=10)
    high = models.DecimalField(max_digits=30, decimal_places=10)
    low = models.DecimalField(max_digits=30, decimal_places=10)
    close = models.DecimalField(max_digits=30, decimal_places=10)
    volume = models.DecimalField(max_digits=30, decimal_places=10)
    turnover = models.DecimalField(max_digits=40, decimal_places=10, default=0)

    class Meta:
        ordering = ["symbol", "interval", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "interval", "start"], name="candle_unique_symbol_interval_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.interval} {self.start:%Y-%m-%d %H:%M}"


class MarketDataSubscription(models.Model):
    """A consumer's claim on a (symbol, interval): what the candle sync and public streams fetch.

    ``consumer`` names who needs it, e.g. ``"bot:42"``; bots (issue 7) subscribe when they start and
    unsubscribe when they stop (``exchange.services.market_data_subscribe`` / ``_unsubscribe``).
    However many consumers share a pair, it is fetched once.
    """

    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    consumer = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["symbol", "interval", "consumer"]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "interval", "consumer"], name="market_data_subscription_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.interval} for {self.consumer}"
