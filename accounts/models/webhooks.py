"""The record of every outgoing webhook attempt, shown to the tenant it was for."""

from __future__ import annotations

from django.db import models

from accounts.models.tenants import Tenant, TenantOwnedQuerySet


class WebhookAttempt(models.Model):
    """One try at delivering one event (``alert:<id>``) to the tenant's webhook.

    Kept so the client can see what was sent, when, how their endpoint answered and when the next
    try is due; the URL is stored without its query string (which may carry a token) and the
    signing secret is never stored here.
    """

    # Empty for the operator's own webhooks (operator alerts), which no tenant sees.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="webhook_attempts", null=True, blank=True
    )
    event = models.CharField(max_length=100)
    attempt = models.PositiveSmallIntegerField()
    url = models.CharField(max_length=300)
    outcome = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "-at"]), models.Index(fields=["event"])]
        constraints = [
            models.UniqueConstraint(fields=["event", "attempt"], name="webhook_attempt_once")
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.attempt}: {self.outcome}"

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"
