"""Market data kept once per environment: candles, the pairs in use, and the exchange's own holes.

Every row is keyed by the *market-data environment* (``exchange.services.market_data``:
``market_environment``): mainnet, testnet and the simulator each have their own prices, while Bybit
demo trading reads mainnet's public data (its hosts serve private streams only), so a demo bot and a
mainnet bot share one series and a testnet bot never sees mainnet prices.
"""

from __future__ import annotations

from django.db import models


class Candle(models.Model):
    """One closed candle of a linear contract in one environment. Bots read candles from here.

    ``start`` is the candle's open time (aware UTC). Only confirmed (closed) candles are stored;
    rows are upserted, so a re-fetch corrects a candle instead of duplicating it.
    """

    environment = models.CharField(max_length=16, default="mainnet")
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
        ordering = ["environment", "symbol", "interval", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "symbol", "interval", "start"],
                name="candle_unique_env_symbol_interval_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.environment} {self.symbol} {self.interval} {self.start:%Y-%m-%d %H:%M}"


class MarketDataSubscription(models.Model):
    """A consumer's claim on an (environment, symbol, interval): what the sync and streams fetch.

    ``consumer`` names who needs it, e.g. ``"bot:42"``; bots subscribe when they start and
    unsubscribe when they stop (``exchange.services.market_data_subscribe`` / ``_unsubscribe``).
    ``lookback`` is how many consecutive closed candles the consumer reads per decision: the sync
    keeps the largest lookback of a pair's consumers (plus a margin) stored and gap-free. However
    many consumers share a pair, it is fetched once.
    """

    environment = models.CharField(max_length=16, default="mainnet")
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    consumer = models.CharField(max_length=100)
    lookback = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["environment", "symbol", "interval", "consumer"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "symbol", "interval", "consumer"],
                name="market_data_subscription_unique_env",
            )
        ]

    def __str__(self) -> str:
        return f"{self.environment} {self.symbol} {self.interval} for {self.consumer}"


class CandleHole(models.Model):
    """A run of candle starts the exchange itself has no candle for (asked once, by range).

    The sync records a hole when a range fetch comes back without those starts: before the pair's
    listing, or an exchange outage. It never asks for them again, and the operator sees each hole
    once, here in admin and in one log line, instead of a repair retried every minute. A bot whose
    lookback spans a hole waits until the hole has left its window (its page says when).
    """

    environment = models.CharField(max_length=16)
    symbol = models.CharField(max_length=32)
    interval = models.CharField(max_length=8)
    first_start = models.DateTimeField()
    last_start = models.DateTimeField()
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["environment", "symbol", "interval", "-first_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "symbol", "interval", "first_start"],
                name="candle_hole_unique",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.environment} {self.symbol} {self.interval} "
            f"{self.first_start:%Y-%m-%d %H:%M}..{self.last_start:%H:%M}"
        )
