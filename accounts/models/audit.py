"""The append-only audit trail: who did what to what, from where, with before/after values."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from accounts.models.tenants import Tenant
from accounts.models.users import User


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit row through the app."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Refuses bulk updates and deletes; the one sanctioned change is anonymisation."""

    def for_tenant(self, tenant: Tenant) -> AuditEventQuerySet:
        return self.filter(tenant=tenant)

    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be updated.")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    def anonymise(self) -> int:
        """Blank the personal data (IP, user agent, actor email) of these rows; keep the facts.

        Used only by the data-deletion service, which the law allows: the trail keeps what
        happened, but no longer who (by name or address) did it.
        """
        return models.QuerySet.update(self, ip=None, user_agent="", actor_email="")

    def scrub(self, identities: list[str], replacement: str = "[erased]") -> int:
        """Replace each of ``identities`` (an erased person's address and name, the tenant's old
        name) wherever it appears in these rows' description and before/after values: part of
        the same sanctioned anonymisation. Returns how many rows changed."""
        import json

        needles = sorted({i for i in identities if i and len(i) >= 3}, key=len, reverse=True)
        changed = 0
        for event in self.iterator():
            fields: dict[str, Any] = {}
            repr_text = event.target_repr
            before, after = json.dumps(event.before), json.dumps(event.after)
            for needle in needles:
                repr_text = repr_text.replace(needle, replacement)
                encoded = json.dumps(needle)[1:-1]
                before, after = (
                    before.replace(encoded, replacement),
                    after.replace(encoded, replacement),
                )
            if repr_text != event.target_repr:
                fields["target_repr"] = repr_text
            if json.loads(before) != event.before:
                fields["before"] = json.loads(before)
            if json.loads(after) != event.after:
                fields["after"] = json.loads(after)
            if fields:
                models.QuerySet.update(AuditEvent.objects.filter(pk=event.pk), **fields)
                changed += 1
        return changed


class AuditEvent(models.Model):
    """One audited action. Secrets never enter ``before``/``after`` (they are redacted first)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    is_staff_action = models.BooleanField(default=False)
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_email or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")
