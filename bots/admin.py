"""Operator admin for templates, bots, ticks, order intents, positions, equity, protection, alerts.

Bot actions call the lifecycle service (audited, validated); records the engine writes (ticks,
intents, positions, snapshots) are read-only here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bots.models import (
    Alert,
    Bot,
    BotPosition,
    BotTick,
    CapitalFlow,
    EquitySnapshot,
    KillSwitch,
    OrderIntent,
    RiskTemplate,
)
from bots.services.lifecycle import TransitionRefused, bot_transition
from tradingsvc.lib.admin import ReadOnlyAdmin


@admin.register(RiskTemplate)
class RiskTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "slug",
        "strategy",
        "timeframe",
        "risk_per_trade",
        "max_leverage",
        "is_active",
    )
    list_filter = ("strategy", "is_active")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "tenant",
        "symbol",
        "timeframe",
        "strategy",
        "mode",
        "state",
        "last_candle_start",
    )
    list_filter = ("state", "mode", "strategy", "timeframe")
    search_fields = ("name", "tenant__name", "symbol")
    readonly_fields = (
        "state",
        "state_reason",
        "last_candle_start",
        "peak_equity",
        "created_at",
        "updated_at",
    )
    actions = ["pause", "resume", "stop"]

    def get_readonly_fields(self, request: HttpRequest, obj: Bot | None = None) -> list[str]:
        # Edits go through the web app's services (template bounds, the tenant's own keys, audit).
        return [field.name for field in Bot._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _move(self, request: HttpRequest, queryset: QuerySet[Bot], to: str) -> None:
        for bot in queryset:
            try:
                bot_transition(
                    bot=bot, to=to, by=request.user, reason="by the operator", request=request
                )
            except TransitionRefused as exc:
                self.message_user(request, f"{bot}: {exc}", messages.ERROR)

    @admin.action(description="Pause", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        self._move(request, queryset, Bot.State.PAUSED)

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        self._move(request, queryset, Bot.State.RUNNING)

    @admin.action(description="Stop", permissions=["change"])
    def stop(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        self._move(request, queryset, Bot.State.STOPPED)


@admin.register(BotTick)
class BotTickAdmin(ReadOnlyAdmin):
    list_display = ("bot", "candle_start", "status", "started_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("bot__name",)


@admin.register(OrderIntent)
class OrderIntentAdmin(ReadOnlyAdmin):
    list_display = (
        "order_link_id",
        "bot",
        "side",
        "qty",
        "symbol",
        "state",
        "created_at",
        "sent_at",
    )
    list_filter = ("state", "side", "symbol")
    search_fields = ("order_link_id", "exchange_order_id", "bot__name")


@admin.register(BotPosition)
class BotPositionAdmin(ReadOnlyAdmin):
    list_display = ("bot", "symbol", "qty", "avg_price", "realised_pnl", "fees", "updated_at")


@admin.register(EquitySnapshot)
class EquitySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "bot", "at", "equity", "realised_pnl", "unrealised_pnl")
    list_filter = ("tenant",)


@admin.register(CapitalFlow)
class CapitalFlowAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "kind", "amount", "coin", "at")
    list_filter = ("kind",)


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("scope", "tenant", "bot", "active", "flatten", "engaged_at", "released_at")
    list_filter = ("scope", "active")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "severity", "kind", "tenant", "bot", "message", "dismissed_at")
    list_filter = ("severity", "kind")
    search_fields = ("message", "tenant__name")
