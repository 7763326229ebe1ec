"""After repeated failed sign-ins: a cool-off (not a permanent lock), a notice to the account's
owner and to the operators, and a one-time emergency-stop link for a locked owner.

A permanent lock would let anyone who knows a client's address shut them out for good, and out of
their emergency stop; the lock therefore lifts by itself after ``AXES_COOLOFF_TIME`` (an attack in
progress does not extend it), the person is told, and the operators are told so they can look.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import structlog
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import EmergencyStopLink, Membership, Tenant, User
from accounts.services.audit import audit_record
from accounts.services.language import user_language
from accounts.services.staff_roles import OPERATOR

log = structlog.stdlib.get_logger(__name__)


class EmergencyLinkInvalid(Exception):
    """The link is unknown, used or expired."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def emergency_link_issue(*, user: User, tenant: Tenant) -> str:
    """A new single-use link for ``tenant``'s emergency stop; returns its absolute URL."""
    token = secrets.token_urlsafe(32)
    EmergencyStopLink.objects.create(
        tenant=tenant,
        user=user,
        token_hash=_token_hash(token),
        expires_at=timezone.now() + timedelta(minutes=settings.EMERGENCY_LINK_TTL_MINUTES),
    )
    return settings.SITE_URL.rstrip("/") + reverse("portal:emergency_link", args=[token])


def emergency_link_get(*, token: str) -> EmergencyStopLink:
    """The link if it can still be used; else ``EmergencyLinkInvalid``."""
    link: EmergencyStopLink | None = (
        EmergencyStopLink.objects.select_related("tenant", "user")
        .filter(token_hash=_token_hash(token), used_at=None, expires_at__gt=timezone.now())
        .first()
    )
    if link is None:
        raise EmergencyLinkInvalid("This link was used already or has expired.")
    return link


def emergency_link_claim(*, token: str, request: HttpRequest | None = None) -> EmergencyStopLink:
    """Use the link once (a conditional UPDATE: two clicks cannot both pass)."""
    link = emergency_link_get(token=token)
    claimed = EmergencyStopLink.objects.filter(
        pk=link.pk, used_at=None, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    if claimed != 1:
        raise EmergencyLinkInvalid("This link was used already or has expired.")
    audit_record(
        action="auth.emergency_link_used", actor=link.user, tenant=link.tenant, request=request
    )
    return link


def _operator_emails() -> list[str]:
    operators = Group.objects.filter(name=OPERATOR).first()
    staff = User.objects.filter(is_active=True, is_staff=True)
    condition = Q(is_superuser=True) | (Q(groups=operators) if operators else Q(pk__in=[]))
    return sorted(set(staff.filter(condition).values_list("email", flat=True)))


def lockout_notify(*, username: str, request: HttpRequest | None = None) -> bool:
    """Tell the locked account's owner (with emergency-stop links for the tenants they own) and
    the operators, once per cool-off; returns whether notices were sent now."""
    email = username.strip().lower()
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = int(cooloff.total_seconds() // 60) if cooloff else 0
    # axes signals every refused attempt while locked: one notice per lock is enough.
    if not cache.add(f"lockout-notice:{_token_hash(email)}", 1, timeout=max(minutes, 1) * 60):
        return False
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    ip = request.META.get("REMOTE_ADDR", "") if request else ""
    if user is not None:
        owned = Membership.objects.filter(
            user=user, role=Membership.Role.OWNER, tenant__status=Tenant.Status.ACTIVE
        ).select_related("tenant")
        links = [(m.tenant, emergency_link_issue(user=user, tenant=m.tenant)) for m in owned]
        context = {
            "minutes": minutes,
            "links": links,
            "ttl": settings.EMERGENCY_LINK_TTL_MINUTES,
        }
        with translation.override(user_language(user.language)):
            send_mail(
                subject=_("[tradingsvc] Your account is locked after failed sign-ins"),
                message=render_to_string("accounts/email/locked_out.txt", context),
                from_email=None,
                recipient_list=[user.email],
            )
        audit_record(
            action="auth.locked_out",
            actor=None,
            actor_email=user.email,
            tenant=owned[0].tenant if owned else None,
            target=user,
            request=request,
            after={"cooloff_minutes": minutes},
        )
    operators = _operator_emails()
    if operators:
        send_mail(
            subject="[tradingsvc] A sign-in lockout",
            message=(
                f"The account {email} was locked after repeated failed sign-ins "
                f"(last from {ip or 'an unknown address'}); it unlocks by itself in {minutes} "
                "minutes. The owner was emailed. Check the audit trail and axes' access "
                "attempts in admin."
            ),
            from_email=None,
            recipient_list=operators,
        )
    log.warning("auth.locked_out", known_user=user is not None)
    return True
