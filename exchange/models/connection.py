"""A tenant's connection to a Bybit environment: the encrypted API key pair and its state."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant


class ExchangeEnvironment(models.TextChoices):
    """Where a connection's requests go; the same code serves all four."""

    MAINNET = "mainnet", _("Bybit mainnet")
    TESTNET = "testnet", _("Bybit testnet")
    DEMO = "demo", _("Bybit demo trading")
    SIMULATOR = "simulator", _("Local simulator")


class ExchangeConnection(models.Model):
    """One API key pair of a tenant on one environment.

    The key and secret are stored sealed (``tradingsvc.lib.crypto``: AES-256-GCM envelope, bound to
    this tenant, this row and the field), and only ``api_key_last4`` is ever shown. Plaintext exists
    only inside the gateway call that signs a request. ``status`` and ``last_error`` say whether the
    key works; validation fills the permission fields from Bybit's own answer.
    """

    # The tenant's export lists keys with chosen fields (``exchange.services.keys``), not every column.
    exported_by_hand = True

    class Status(models.TextChoices):
        PENDING = "pending", _("Not validated yet")
        ACTIVE = "active", _("Working")
        INVALID = "invalid", _("Refused")
        RETIRED = "retired", _("Replaced by a newer key")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="exchange_connections"
    )
    label = models.CharField(max_length=100, blank=True)
    environment = models.CharField(max_length=16, choices=ExchangeEnvironment.choices)
    api_key_sealed = models.TextField(blank=True)
    api_secret_sealed = models.TextField(blank=True)
    api_key_last4 = models.CharField(max_length=4, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    exchange_uid = models.CharField(max_length=32, blank=True)
    account = models.ForeignKey(
        "exchange.ExchangeAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="connections",
        help_text="the exchange account this key reaches; set when validation learns its UID",
    )
    permissions = models.JSONField(default=dict, blank=True)
    read_only = models.BooleanField(default=False)
    can_withdraw = models.BooleanField(default=False)
    key_expires_at = models.DateTimeField(null=True, blank=True)
    last_validated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "status"])]

    def __str__(self) -> str:
        return f"{self.get_environment_display()} key …{self.api_key_last4}"

    def associated_data(self, field: str) -> str:
        """What each sealed field is bound to: this tenant, this row, this field."""
        return f"tenant={self.tenant_id}|exchange_connection={self.pk}|field={field}"
