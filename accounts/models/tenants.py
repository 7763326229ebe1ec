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

    A UUID keeps tenant ids unguessable in URLs. Only an ``active`` tenant trades. ``suspended``
    (billing: an unpaid invoice) stops trading but its members still sign in, see everything and
    pay; ``disabled`` (operator action, and every erased tenant) stops trading and logins.
    ``anonymised_at`` marks a tenant whose personal data was erased.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended (signs in, does not trade)")
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

    # Members of these tenants can sign in and use the pages; only ACTIVE ones trade.
    SIGN_IN_STATUSES = (Status.ACTIVE, Status.SUSPENDED)

    @property
    def trades(self) -> bool:
        """Whether the engine may tick its bots and send its orders."""
        return self.status == self.Status.ACTIVE


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
