"""Operator admin for plans, billing settings, subscriptions, terms and invoices.

Invoices are written by the period close and never edited by hand: they are read-only here, and
corrections are credit notes. The subscription list re-runs last month's close for chosen tenants.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from billing.models import (
    BillingSettings,
    Invoice,
    InvoiceLine,
    Plan,
    Subscription,
    TermsAcceptance,
    TermsVersion,
)
from tradingsvc.lib.admin import ReadOnlyAdmin


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "monthly_fee",
        "performance_rate",
        "max_bots",
        "max_markets",
        "is_active",
    )
    prepopulated_fields = {"slug": ("name",)}


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "currency", "usdt_rate", "annual_discount", "first_month_free")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row: added only when missing, and only by staff who may add it at all.
        return super().has_add_permission(request) and not BillingSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("tenant", "plan", "cycle", "starts_on", "ends_on")
    list_filter = ("plan", "cycle")
    actions = ["close_last_month"]

    @admin.action(description="Close last month for these tenants (again)", permissions=["change"])
    def close_last_month(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        from billing.services.close import period_close, previous_period_start

        period_start = previous_period_start(timezone.now().date())
        for tenant_id in sorted({s.tenant_id for s in queryset}, key=str):
            invoice = period_close(tenant_id=tenant_id, period_start=period_start)
            if invoice is None:
                self.message_user(
                    request,
                    f"{tenant_id}: no subscription bills {period_start:%Y-%m}",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request, f"{tenant_id}: {period_start:%Y-%m} is invoice {invoice}"
                )


class InvoiceLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = InvoiceLine
    extra = 0
    can_delete = False
    readonly_fields = ("position", "code", "basis", "amount_usdt", "amount")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "tenant",
        "kind",
        "state",
        "period_start",
        "total",
        "currency",
        "due_on",
    )
    list_filter = ("state", "kind", "period_start")
    inlines = [InvoiceLineInline]


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("version", "published_at")


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "user", "terms", "accepted_at")
