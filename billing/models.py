"""Plans, the operator's billing settings, subscriptions, service terms, invoices and their numbers.

Amounts are USDT unless a field says otherwise; an invoice is issued in the operator's currency at
the rate stored on it. The fee maths is ``billing.fees``; writes are ``billing.services``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant, TenantOwnedQuerySet
from bots.models import fraction_field, money_field


def cents_field(**options: Any) -> models.DecimalField[Any, Any]:
    """An invoice amount: rounded to the cent (``billing.fees.to_cent``)."""
    return models.DecimalField(max_digits=20, decimal_places=2, **options)


class Plan(models.Model):
    """A plan the operator sells (Basic, Standard, Premium are seeded) and what it allows.

    ``allowed_templates`` lists the risk template slugs its bots may use. Allowances are not yet
    enforced by the engine (a later slice copies them onto the tenant, below billing's layer).
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    monthly_fee = money_field(help_text="USDT per month")
    performance_rate = fraction_field(help_text="share of the gain above the high-water mark")
    max_bots = models.PositiveIntegerField()
    max_markets = models.PositiveIntegerField()
    allowed_templates = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["monthly_fee"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(performance_rate__gte=0, performance_rate__lte=1),
                name="plan_performance_rate_is_a_fraction",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BillingSettings(models.Model):
    """The operator's billing settings: one row (``pk=1``), read with ``billing_settings()``."""

    annual_discount = fraction_field(
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("0.15"))],
        help_text="discount on twelve months prepaid, 10 to 15 %",
    )
    loyalty_after_months = models.PositiveIntegerField(
        default=12, help_text="profitable months before the loyalty rate applies (0 = never)"
    )
    loyalty_rate_reduction = fraction_field(
        default=Decimal("0.02"), help_text="taken off the plan's performance rate, e.g. 0.02"
    )
    first_month_free = models.BooleanField(
        default=True, help_text="the first period of a monthly subscription: performance fee only"
    )
    currency = models.CharField(max_length=3, default="USD")
    usdt_rate = money_field(default=Decimal(1), help_text="currency units per USDT")
    invoice_series = models.CharField(max_length=8, default="INV")
    credit_note_series = models.CharField(max_length=8, default="CN")
    payment_days = models.PositiveIntegerField(default=14)
    payment_instructions = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "billing settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(annual_discount__gte=Decimal("0.10"))
                & models.Q(annual_discount__lte=Decimal("0.15")),
                name="billingsettings_annual_discount_10_to_15",
            ),
            models.CheckConstraint(condition=models.Q(pk=1), name="billingsettings_single_row"),
        ]

    def __str__(self) -> str:
        return "Billing settings"


class Subscription(models.Model):
    """A tenant's plan from a date: the rows are its history, the latest started one is current.

    A change of plan is a new row starting on the next period's first day (``ends_on`` of the
    previous row is set to that day), so a period is always billed on one plan.
    """

    class Cycle(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        ANNUAL = "annual", _("Annual (prepaid)")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    cycle = models.CharField(max_length=8, choices=Cycle.choices, default=Cycle.MONTHLY)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="exclusive; empty = open")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["tenant", "-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "starts_on"], name="subscription_unique_tenant_start"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on=None) | models.Q(ends_on__gt=models.F("starts_on")),
                name="subscription_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} {self.plan} from {self.starts_on}"


class TermsVersion(models.Model):
    """A published version of the service terms; the newest published one is what signup shows."""

    version = models.CharField(max_length=32, unique=True)
    text = models.TextField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.version


class TermsAcceptance(models.Model):
    """A user's acceptance of one terms version for a tenant, once."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="terms_acceptances")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="terms_acceptances"
    )
    terms = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(auto_now_add=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "terms"], name="termsacceptance_unique_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.terms} at {self.accepted_at:%Y-%m-%d}"


class InvoiceCounter(models.Model):
    """The last number given in a series and year; locked while the next one is taken, in the
    transaction that issues the invoice, so numbers have no gaps and no repeats."""

    series = models.CharField(max_length=8)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="invoicecounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"


class Invoice(models.Model):
    """An invoice of one tenant's period (or a credit note correcting one), with its calculation.

    One invoice per tenant and period (a unique row fences the close). An issued invoice is never
    edited: a correction is a credit note (``kind=credit_note``, negative lines, ``corrects``).
    The fee calculation is stored in the row's figures and its lines; ``flows`` holds the period's
    flows as ``[{"at", "amount", "equity_before"}]`` (strings).
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        VOID = "void", _("Void")

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INVOICE)
    state = models.CharField(max_length=8, choices=State.choices, default=State.DRAFT)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="exclusive")
    series = models.CharField(max_length=8, blank=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    usdt_rate = money_field(help_text="currency units per USDT, fixed at the close")
    # The calculation (USDT).
    equity_start = money_field(null=True, blank=True)
    equity_end = money_field(null=True, blank=True)
    net_flows = money_field(default=Decimal(0))
    flows = models.JSONField(default=list, blank=True)
    hwm_start = money_field(default=Decimal(0))
    hwm_adjusted = money_field(default=Decimal(0))
    gain = money_field(default=Decimal(0))
    performance_rate = fraction_field(default=Decimal(0))
    hwm_end = money_field(default=Decimal(0))
    total_usdt = cents_field(default=Decimal(0))
    total = cents_field(default=Decimal(0), help_text="in the invoice's currency")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "tenant"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period_start"],
                condition=models.Q(kind="invoice"),
                name="invoice_one_per_tenant_period",
            ),
            models.UniqueConstraint(
                fields=["series", "year", "number"],
                condition=models.Q(number__isnull=False),
                name="invoice_unique_number",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", corrects=None)
                | models.Q(kind="credit_note", corrects__isnull=False),
                name="invoice_credit_note_corrects_an_invoice",
            ),
        ]

    def __str__(self) -> str:
        return self.display_number or f"draft {self.pk}"

    @property
    def display_number(self) -> str:
        """``INV-2026-000042``; empty for a draft."""
        if self.number is None:
            return ""
        return f"{self.series}-{self.year}-{self.number:06d}"


class InvoiceLine(models.Model):
    """One line of an invoice: a code rendered in the reader's language, its amounts, its basis.

    ``basis`` holds the figures the line was computed from (strings), e.g. the gain and the rate.
    """

    class Code(models.TextChoices):
        FIXED_FEE = "fixed_fee", _("Monthly fee")
        ANNUAL_FEE = "annual_fee", _("Annual fee, prepaid")
        PERFORMANCE_FEE = "performance_fee", _("Performance fee")
        CREDIT = "credit", _("Credit")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=32, choices=Code.choices)
    basis = models.JSONField(default=dict, blank=True)
    amount_usdt = cents_field()
    amount = cents_field(help_text="in the invoice's currency")

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoiceline_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount}"
