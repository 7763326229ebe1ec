"""Operator admin for templates, bots, ticks, order intents, positions, equity, protection, alerts.

Bot actions call the lifecycle service (audited, validated); records the engine writes (ticks,
intents, positions, snapshots) are read-only here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bots.market import WARMING_UP, bots_readiness
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
from bots.services.orders import NeverPlacedRefused, intent_mark_never_placed
from bots.services.protection import kill_switch_enforce, kill_switch_engage, kill_switch_release
from bots.templatetags.engine_text import alert_words, intent_error
from bots.templatetags.readiness import tick_reason
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


class CannotDecideFilter(admin.SimpleListFilter):
    """Running bots that cannot decide on their next candle yet (``bots.market.bots_readiness``)."""

    title = "market data"
    parameter_name = "market_data"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("not_ready", "Cannot decide yet (warming up or waiting for data)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Bot]) -> QuerySet[Bot]:
        if self.value() != "not_ready":
            return queryset
        running = list(queryset.filter(state=Bot.State.RUNNING).select_related("connection"))
        return queryset.filter(pk__in=list(bots_readiness(running)))


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
        "market_data",
        "last_candle_start",
    )
    list_filter = (CannotDecideFilter, "state", "mode", "strategy", "timeframe")
    search_fields = ("name", "tenant__name", "symbol")
    readonly_fields = (
        "strategy",
        "timeframe",
        "state",
        "state_reason",
        "failure_streak",
        "last_candle_start",
        "peak_equity",
        "created_at",
        "updated_at",
    )
    actions = ["pause", "resume", "stop", "reset_peak"]

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

    @admin.display(description="market data")
    def market_data(self, obj: Bot) -> str:
        """Why a running bot has not decided yet; candle holes are listed under Exchange."""
        found = bots_readiness([obj]).get(obj.pk)
        if found is None:
            return "-"
        if found.state == WARMING_UP and found.first_decision_at is not None:
            return (
                f"warming up: {found.have} of {found.need} candles, "
                f"first decision at about {found.first_decision_at:%Y-%m-%d %H:%M} UTC"
            )
        return f"waiting for market data ({found.have} of {found.need} candles)"

    @admin.action(description="Pause", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        self._move(request, queryset, Bot.State.PAUSED)

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        self._move(request, queryset, Bot.State.RUNNING)

    @admin.action(description="Stop", permissions=["change"])
    def stop(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        self._move(request, queryset, Bot.State.STOPPED)

    @admin.action(
        description="Reset the drawdown peak to the current equity", permissions=["change"]
    )
    def reset_peak(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        from bots.services.books import bot_peak_reset_to_current

        for bot in queryset.select_related("connection", "tenant"):
            equity = bot_peak_reset_to_current(bot=bot, by=request.user, request=request)  # type: ignore[arg-type]
            if equity is None:
                self.message_user(request, f"{bot}: no equity known yet", messages.WARNING)
            else:
                self.message_user(request, f"{bot}: drawdown peak reset to {equity}")


@admin.register(BotTick)
class BotTickAdmin(ReadOnlyAdmin):
    list_display = ("bot", "candle_start", "status", "decision", "started_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("bot__name",)

    @admin.display(description="decision")
    def decision(self, tick: BotTick) -> str:
        """What the client reads, in the operator's language."""
        return tick_reason(tick)


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
        "refusal",
    )
    list_filter = ("state", "side", "symbol")

    @admin.display(description="refusal")
    def refusal(self, intent: OrderIntent) -> str:
        """The exchange's refusal as the client reads it (``error`` keeps the exchange's words)."""
        return intent_error(intent)

    search_fields = ("order_link_id", "exchange_order_id", "bot__name")
    actions = ["mark_never_placed"]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """Ending an order's record is the operator's word: staff who may change intents."""
        return bool(request.user.is_staff and request.user.has_perm("bots.change_orderintent"))

    @admin.action(
        description="Mark never placed (unknown past the 24 h look-up window)",
        permissions=["resolve"],
    )
    def mark_never_placed(self, request: HttpRequest, queryset: QuerySet[OrderIntent]) -> None:
        for intent in queryset:
            try:
                intent_mark_never_placed(intent=intent, by=request.user, request=request)  # type: ignore[arg-type]
            except NeverPlacedRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{intent.order_link_id}: marked never placed.")


@admin.register(BotPosition)
class BotPositionAdmin(ReadOnlyAdmin):
    list_display = ("bot", "symbol", "qty", "avg_price", "realised_pnl", "fees", "updated_at")


@admin.register(EquitySnapshot)
class EquitySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "account", "bot", "at", "equity", "realised_pnl", "unrealised_pnl")
    list_filter = ("tenant",)


@admin.register(CapitalFlow)
class CapitalFlowAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "account", "kind", "amount", "coin", "at")
    list_filter = ("kind",)


class KillSwitchEngageForm(forms.ModelForm):  # type: ignore[type-arg]
    """What the operator chooses; the switch itself is made by the service, never saved raw."""

    class Meta:
        model = KillSwitch
        fields = ["scope", "tenant", "bot", "flatten", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == KillSwitch.Scope.TENANT and not data.get("tenant"):
            self.add_error("tenant", "Choose the client whose trading stops.")
        if scope == KillSwitch.Scope.BOT and not data.get("bot"):
            self.add_error("bot", "Choose the bot that stops.")
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why: the audit trail keeps it.")
        return data


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Engage (the add page), release and enforce again, all through ``bots.services.protection``
    (the client's emergency stop's path): audited, enforced and pushed to the clients' pages.
    An existing switch is never edited by hand."""

    form = KillSwitchEngageForm
    list_display = (
        "scope",
        "tenant",
        "bot",
        "active",
        "flatten",
        "by_operator",
        "engaged_by",
        "engaged_at",
        "enforced_at",
        "progress_text",
        "released_at",
    )
    list_filter = ("scope", "active", "by_operator")
    autocomplete_fields = ["tenant", "bot"]
    actions = ["release", "enforce_again"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_engage_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff and request.user.has_perm("bots.add_killswitch"))

    @admin.display(description="progress")
    def progress_text(self, obj: KillSwitch) -> str:
        p = obj.progress or {}
        if not p:
            return "-"
        return (
            f"{p.get('bots', 0)} bots: {p.get('cancelled', 0)} orders cancelled, "
            f"{p.get('flattened', 0)} closed, {p.get('failed', 0)} failed (retrying)"
            if p.get("failed")
            else f"{p.get('bots', 0)} bots: {p.get('cancelled', 0)} orders cancelled, "
            f"{p.get('flattened', 0)} closed"
        )

    def save_model(self, request: HttpRequest, obj: KillSwitch, form: Any, change: bool) -> None:
        switch = kill_switch_engage(
            scope=obj.scope,
            tenant=obj.tenant,
            bot=obj.bot,
            flatten=obj.flatten,
            reason=obj.reason.strip(),
            by=request.user,  # type: ignore[arg-type]
            by_operator=True,
            request=request,
        )
        obj.pk, obj._state.adding = switch.pk, False

    @admin.action(description="Release (trading may resume)", permissions=["engage"])
    def release(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for switch in queryset.filter(active=True):
            kill_switch_release(switch=switch, by=request.user, request=request)  # type: ignore[arg-type]
            self.message_user(request, f"{switch}: released.")

    @admin.action(description="Enforce again now", permissions=["engage"])
    def enforce_again(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for switch in queryset.filter(active=True):
            counts = kill_switch_enforce(switch=switch)
            self.message_user(request, f"{switch}: {counts}.")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "severity", "kind", "tenant", "bot", "words", "dismissed_at")
    list_filter = ("severity", "kind")
    search_fields = ("message", "tenant__name")

    @admin.display(description="message")
    def words(self, alert: Alert) -> str:
        """The alert in the operator's language (``message`` keeps the English)."""
        return alert_words(alert)
