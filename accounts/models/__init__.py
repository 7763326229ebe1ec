"""Accounts models, one module per concern."""

from accounts.models.audit import AuditEvent
from accounts.models.emergency import EmergencyStopLink
from accounts.models.invitations import Invitation
from accounts.models.operator_otp import OperatorTOTPDevice
from accounts.models.tenants import Membership, Tenant, TenantOwnedQuerySet
from accounts.models.users import User, UserManager
from accounts.models.webhooks import WebhookAttempt

__all__ = [
    "AuditEvent",
    "EmergencyStopLink",
    "Invitation",
    "Membership",
    "OperatorTOTPDevice",
    "Tenant",
    "TenantOwnedQuerySet",
    "User",
    "UserManager",
    "WebhookAttempt",
]
