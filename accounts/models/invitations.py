"""Invitations: the only way in. Random token, stored as a hash, single use, expiring, revocable."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models.tenants import Membership, Tenant, TenantOwnedQuerySet
from accounts.models.users import User


class Invitation(models.Model):
    """An invitation of one email address into one tenant with one role.

    The operator invites a client (owner of a new tenant) from admin; an owner invites viewers from
    the web app. Only the SHA-256 of the token is stored, so a database leak cannot be turned into
    signups. A resend issues a new token (the old link stops working) and a new expiry.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} of {self.tenant}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
