"""One-time emergency-stop links, emailed to an owner whose account is locked."""

from __future__ import annotations

from django.db import models

from accounts.models.tenants import Tenant, TenantOwnedQuerySet
from accounts.models.users import User


class EmergencyStopLink(models.Model):
    """A link that engages the tenant's emergency stop without signing in.

    Sent when the owner's account is locked after failed sign-ins (someone may be guessing their
    password, or they may have forgotten it while a bot misbehaves): the lockout must not keep
    them from stopping their bots. Only the SHA-256 of the token is stored; the link works once
    (claimed with a conditional UPDATE) and for a few minutes (``EMERGENCY_LINK_TTL_MINUTES``).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"emergency-stop link for {self.tenant_id}"
