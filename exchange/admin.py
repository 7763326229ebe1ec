"""Admin of the exchange app: connections (never a secret), candle coverage, streams, fills.

Every exchange-facing field an operator needs is shown read-only; the sealed key pair is never in a
form, a list or a page (``exclude``; the test walks both pages), only ``api_key_last4``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import Count, Max, Min
from django.http import HttpRequest
from django.template.response import TemplateResponse

from exchange.models import (
    Candle,
    CandleHole,
    ExchangeAccount,
    ExchangeConnection,
    Execution,
    MarketDataSubscription,
    StreamShard,
)
from exchange.types import interval_delta

SEALED_FIELDS = ("api_key_sealed", "api_secret_sealed")


@admin.register(ExchangeConnection)
class ExchangeConnectionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "tenant",
        "label",
        "environment",
        "status",
        "key_hint",
        "exchange_uid",
        "read_only",
        "can_withdraw",
        "last_validated_at",
        "short_error",
    )
    list_filter = ("environment", "status", "read_only", "can_withdraw")
    search_fields = ("label", "exchange_uid", "tenant__name")
    exclude = SEALED_FIELDS
    readonly_fields = (
        "tenant",
        "environment",
        "api_key_last4",
        "exchange_uid",
        "permissions",
        "read_only",
        "can_withdraw",
        "key_expires_at",
        "last_validated_at",
        "last_error",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are added by their tenant, sealed by the key-validation flow

    @admin.display(description="API key")
    def key_hint(self, obj: ExchangeConnection) -> str:
        return f"…{obj.api_key_last4}" if obj.api_key_last4 else "-"

    @admin.display(description="last error")
    def short_error(self, obj: ExchangeConnection) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error


def candle_coverage() -> list[dict[str, Any]]:
    """Per (environment, symbol, interval): first and last candle, how many, how many the span
    should hold, and how many of the missing ones the exchange itself has no candle for."""
    rows = (
        Candle.objects.values("environment", "symbol", "interval")
        .annotate(first=Min("start"), last=Max("start"), count=Count("id"))
        .order_by("environment", "symbol", "interval")
    )
    users = {
        (r["environment"], r["symbol"], r["interval"]): r["n"]
        for r in MarketDataSubscription.objects.values(
            "environment", "symbol", "interval"
        ).annotate(n=Count("id"))
    }
    holes: dict[tuple[str, str, str], int] = {}
    for hole in CandleHole.objects.all():
        key = (hole.environment, hole.symbol, hole.interval)
        hole_step = interval_delta(hole.interval)
        span = int((hole.last_start - hole.first_start) / hole_step) + 1 if hole_step else 1
        holes[key] = holes.get(key, 0) + span
    out = []
    for row in rows:
        step = interval_delta(row["interval"])
        first: datetime = row["first"]
        last: datetime = row["last"]
        expected = int((last - first) / step) + 1 if step else row["count"]
        out.append(
            {
                **row,
                "expected": expected,
                "missing": max(expected - row["count"], 0),
                "consumers": users.get((row["environment"], row["symbol"], row["interval"]), 0),
                "at_exchange": holes.get((row["environment"], row["symbol"], row["interval"]), 0),
            }
        )
    return out


@admin.register(Candle)
class CandleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The change list opens with the coverage table (what the candle sync keeps)."""

    list_display = (
        "environment",
        "symbol",
        "interval",
        "start",
        "open",
        "high",
        "low",
        "close",
        "volume",
    )
    list_filter = ("environment", "symbol", "interval")
    date_hierarchy = "start"
    change_list_template = "admin/exchange/candle/change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        extra = {**(extra_context or {}), "coverage": candle_coverage()}
        response = super().changelist_view(request, extra_context=extra)
        assert isinstance(response, TemplateResponse)  # noqa: S101 - the list, not a redirect
        return response

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CandleHole)
class CandleHoleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Candles the exchange itself does not have: found once by the sync, never asked for again.

    A bot whose lookback spans one waits for the hole to leave its window ("warming up").
    """

    list_display = ("environment", "symbol", "interval", "first_start", "last_start", "found_at")
    list_filter = ("environment", "symbol", "interval")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MarketDataSubscription)
class MarketDataSubscriptionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("environment", "symbol", "interval", "consumer", "lookback", "created_at")
    list_filter = ("environment", "symbol", "interval")
    search_fields = ("consumer",)


@admin.register(StreamShard)
class StreamShardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "__str__",
        "hostname",
        "pid",
        "heartbeat_at",
        "last_message_at",
        "private_connections",
        "public_topics",
        "reconnects",
        "messages",
    )
    readonly_fields = [f.name for f in StreamShard._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "exec_time",
        "account",
        "connection",
        "symbol",
        "side",
        "exec_qty",
        "exec_price",
        "exec_fee",
        "order_link_id",
        "source",
        "handled_at",
    )
    list_filter = ("source", "symbol", "side")
    search_fields = ("exec_id", "order_id", "order_link_id")
    readonly_fields = [f.name for f in Execution._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The Bybit accounts the books are kept in; created by key validation, never by hand."""

    list_display = ("exchange_uid", "environment", "tenant", "flows_synced_until", "created_at")
    list_filter = ("environment",)
    search_fields = ("exchange_uid", "tenant__name")
    readonly_fields = [f.name for f in ExchangeAccount._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
