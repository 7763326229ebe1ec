"""Tenants (one per client account) and memberships with a role."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models.users import User


class TenantOwnedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """The one scoping mechanism for tenant-owned rows: every client-facing read starts here.

    Tenant-owned models use ``objects = TenantOwnedQuerySet.as_manager()`` (with a ``tenant``
    foreign key), and views, forms, API and admin lists reach them only through
    ``for_tenant(membership.tenant)`` (see ``accounts.selectors``), so another tenant's row is
    simply not found: a 404, never a 403 that would confirm it exists.
    """

    def for_tenant(self, tenant: Tenant) -> TenantOwnedQuerySet:
        return self.filter(tenant=tenant)


class Tenant(models.Model):
    """One client account: owns bots, exchange connections, invoices. Its id never appears in order.

    A UUID keeps tenant ids unguessable in URLs. ``disabled`` stops trading and logins for the
    whole tenant (operator action); ``anonymised_at`` marks a tenant whose personal data was erased.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DISABLED = "disabled", _("Disabled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a tenant: the owner has full control, a viewer sees and changes nothing."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        VIEWER = "viewer", _("Viewer")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_tenant_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.tenant}"

    @property
    def can_change(self) -> bool:
        return self.role == self.Role.OWNER
