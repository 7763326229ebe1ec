"""An exchange account: the unit the books are kept in, whichever API keys reach it."""

from __future__ import annotations

from django.db import models

from accounts.models import Tenant


class ExchangeAccount(models.Model):
    """One Bybit account (its UID) on one environment, owned by one tenant.

    Fills, positions, capital flows and equity belong to the account, not to an API key: a key
    can be rotated, two keys of one account can be active at once, and each key's stream and
    catch-up sees the same executions and transactions. Keeping them unique per account and the
    exchange's own ids is what makes any number of keys count everything once. A key is tied to
    its account when validation learns the UID (``exchange.services.accounts``).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="exchange_accounts")
    environment = models.CharField(max_length=16)
    exchange_uid = models.CharField(max_length=32)
    flows_synced_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="the transaction log is recorded up to here; the next sync resumes from it",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "environment", "exchange_uid"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "exchange_uid"], name="exchange_account_unique_uid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.environment} UID {self.exchange_uid}"
