"""What the stream processes receive and how they are doing: executions and shard heartbeats."""

from __future__ import annotations

from django.db import models

from exchange.models.connection import ExchangeConnection


class Execution(models.Model):
    """One fill on an exchange account, stored exactly once (unique per account and Bybit exec id).

    ``connection`` is the key it arrived through; with two keys of one account active, or a key
    rotated, the second arrival finds the row and is ignored.

    It arrives from the private ``execution`` stream or from the REST catch-up after a reconnect,
    whichever is first; the other is ignored. ``handled_at`` is set once the engine's handler
    (``EXCHANGE_STREAM_HANDLERS``) has taken it, so an interrupted hand-over is retried.
    """

    class Source(models.TextChoices):
        STREAM = "stream", "Private stream"
        REST = "rest", "REST catch-up"

    connection = models.ForeignKey(
        ExchangeConnection, on_delete=models.CASCADE, related_name="executions"
    )
    account = models.ForeignKey(
        "exchange.ExchangeAccount", on_delete=models.CASCADE, related_name="executions"
    )
    exec_id = models.CharField(max_length=64)
    order_id = models.CharField(max_length=64, blank=True)
    order_link_id = models.CharField(max_length=64, blank=True, db_index=True)
    symbol = models.CharField(max_length=32)
    side = models.CharField(max_length=8)
    exec_price = models.DecimalField(max_digits=30, decimal_places=10)
    exec_qty = models.DecimalField(max_digits=30, decimal_places=10)
    exec_value = models.DecimalField(max_digits=30, decimal_places=10)
    exec_fee = models.DecimalField(max_digits=30, decimal_places=10)
    fee_rate = models.DecimalField(max_digits=30, decimal_places=10)
    exec_type = models.CharField(max_length=32, blank=True)
    is_maker = models.BooleanField(default=False)
    closed_size = models.DecimalField(max_digits=30, decimal_places=10, default=0)
    exec_time = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["exec_time", "exec_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "exec_id"], name="execution_unique_account_exec_id"
            )
        ]
        indexes = [models.Index(fields=["account", "exec_time"])]

    def __str__(self) -> str:
        return f"{self.symbol} {self.side} {self.exec_qty} @ {self.exec_price}"


class StreamShard(models.Model):
    """One ``run_streams`` process: which shard it holds, and when it last heard from Bybit."""

    shard = models.PositiveIntegerField()
    shards = models.PositiveIntegerField()
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    private_connections = models.PositiveIntegerField(default=0)
    public_topics = models.PositiveIntegerField(default=0)
    reconnects = models.PositiveIntegerField(default=0)
    messages = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["shards", "shard"]
        constraints = [
            models.UniqueConstraint(fields=["shard", "shards"], name="stream_shard_unique")
        ]

    def __str__(self) -> str:
        return f"shard {self.shard}/{self.shards}"
