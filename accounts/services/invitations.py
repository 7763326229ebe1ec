"""Inviting people: the operator invites clients, owners invite viewers. Signup needs a valid token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEvent, Invitation, Membership, Tenant, User
from accounts.services.audit import audit_record
from accounts.services.language import request_language


class InvitationError(Exception):
    """Why an invitation cannot be used, in words the invited person understands."""


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its token; the token exists only here and in the email."""

    invitation: Invitation
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def invitation_url(token: str, base_url: str = "") -> str:
    return f"{base_url}{reverse('accounts:invitation_accept', args=[token])}"


def _expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)


@transaction.atomic
def invitation_create_client(
    *, tenant_name: str, email: str, invited_by: User, request: HttpRequest | None = None
) -> IssuedInvitation:
    """Operator action: a new tenant whose owner will be ``email``; the invitation is emailed."""
    tenant = Tenant.objects.create(name=tenant_name.strip())
    issued = _create(tenant=tenant, email=email, role=Membership.Role.OWNER, invited_by=invited_by)
    audit_record(
        action="tenant.created",
        actor=invited_by,
        tenant=tenant,
        target=tenant,
        request=request,
        after={"name": tenant.name},
    )
    audit_record(
        action="invitation.created",
        actor=invited_by,
        tenant=tenant,
        target=issued.invitation,
        request=request,
        after={"email": issued.invitation.email, "role": issued.invitation.role},
    )
    transaction.on_commit(lambda: invitation_send(issued, request=request))
    return issued


@transaction.atomic
def invitation_create_viewer(
    *, tenant: Tenant, email: str, invited_by: User, request: HttpRequest | None = None
) -> IssuedInvitation:
    """Owner action: invite a read-only viewer into the owner's tenant."""
    email = email.strip().lower()
    _refuse_past_hourly_limit(tenant)
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise InvitationError(f"{email} is already a member of this account.")
    pending = Invitation.objects.for_tenant(tenant).filter(
        email__iexact=email, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    )
    if pending.exists():
        raise InvitationError(f"{email} already has a pending invitation: resend or revoke it.")
    issued = _create(tenant=tenant, email=email, role=Membership.Role.VIEWER, invited_by=invited_by)
    audit_record(
        action="invitation.created",
        actor=invited_by,
        tenant=tenant,
        target=issued.invitation,
        request=request,
        after={"email": email, "role": Membership.Role.VIEWER},
    )
    transaction.on_commit(lambda: invitation_send(issued, request=request))
    return issued


def _refuse_past_hourly_limit(tenant: Tenant) -> None:
    """A tenant sends at most ``INVITATIONS_PER_HOUR`` invitation emails an hour (new or resent):
    our mail server must not become a way to flood someone's inbox. Counted from the audit
    trail, which records each one."""
    since = timezone.now() - timedelta(hours=1)
    sent = AuditEvent.objects.for_tenant(tenant).filter(
        action__in=["invitation.created", "invitation.resent"], at__gte=since
    )
    if sent.count() >= settings.INVITATIONS_PER_HOUR:
        raise InvitationError(
            _("Too many invitations in the last hour: wait a little, then send it again.")
        )


def _create(*, tenant: Tenant, email: str, role: str, invited_by: User) -> IssuedInvitation:
    token, token_hash = _new_token()
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email.strip().lower(),
        role=role,
        token_hash=token_hash,
        expires_at=_expiry(),
        invited_by=invited_by,
    )
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_send(issued: IssuedInvitation, *, request: HttpRequest | None = None) -> None:
    """Email the link (text and HTML bodies) through Django's email backend."""
    invitation = issued.invitation
    base_url = request.build_absolute_uri("/").rstrip("/") if request else settings.SITE_URL
    context = {
        "invitation": invitation,
        "tenant_name": invitation.tenant.name,
        "role": invitation.get_role_display(),
        "url": invitation_url(issued.token, base_url),
        "expires_at": invitation.expires_at,
        "inviter": invitation.invited_by.email if invitation.invited_by else "tradingsvc",
    }
    message = EmailMultiAlternatives(
        subject=_("You are invited to %(tenant)s on tradingsvc")
        % {"tenant": invitation.tenant.name},
        body=render_to_string("accounts/email/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string("accounts/email/invitation.html", context), "text/html"
    )
    message.send()
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_count=invitation.sent_count + 1, last_sent_at=timezone.now()
    )


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, by: User, request: HttpRequest | None = None
) -> IssuedInvitation:
    """A new token and expiry (the old link stops working), emailed again."""
    if invitation.role == Membership.Role.VIEWER:
        _refuse_past_hourly_limit(invitation.tenant)
    if invitation.accepted_at or invitation.revoked_at:
        if invitation.accepted_at:
            raise InvitationError(_("This invitation was already accepted; create a new one."))
        raise InvitationError(_("This invitation was already revoked; create a new one."))
    token, token_hash = _new_token()
    invitation.token_hash, invitation.expires_at = token_hash, _expiry()
    invitation.save(update_fields=["token_hash", "expires_at"])
    issued = IssuedInvitation(invitation=invitation, token=token)
    audit_record(
        action="invitation.resent",
        actor=by,
        tenant=invitation.tenant,
        target=invitation,
        request=request,
    )
    transaction.on_commit(lambda: invitation_send(issued, request=request))
    return issued


def invitation_revoke(
    *, invitation: Invitation, by: User, request: HttpRequest | None = None
) -> None:
    """The link stops working at once."""
    if invitation.accepted_at:
        raise InvitationError(_("This invitation was already accepted; remove the member instead."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            action="invitation.revoked",
            actor=by,
            tenant=invitation.tenant,
            target=invitation,
            request=request,
        )


def invitation_check(token: str) -> Invitation:
    """The invitation behind a token, or an ``InvitationError`` saying plainly why it cannot be used."""
    invitation: Invitation | None = (
        Invitation.objects.select_related("tenant").filter(token_hash=_hash(token)).first()
    )
    if invitation is None:
        raise InvitationError(
            _(
                "This invitation link is not valid. It may have been replaced by a newer email: "
                "use the most recent invitation, or ask for a new one."
            )
        )
    if invitation.accepted_at:
        raise InvitationError(
            _("This invitation was already used. Sign in with your email and password.")
        )
    if invitation.revoked_at:
        raise InvitationError(
            _("This invitation was withdrawn. Ask the person who invited you for a new one.")
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationError(
            _("This invitation has expired. Ask the person who invited you to resend it.")
        )
    if invitation.tenant.status != Tenant.Status.ACTIVE:
        raise InvitationError(_("The account you were invited to is not active. Contact support."))
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, email: str, password: str, request: HttpRequest | None = None
) -> User:
    """Sign up from an invitation: the invited email only, single use, password rules applied."""
    invitation = invitation_check(token)
    email = email.strip().lower()
    if email != invitation.email:
        raise InvitationError(
            _(
                "This invitation was sent to a different email address. Sign up with the address the "
                "invitation was sent to."
            )
        )
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationError(_("An account with this email already exists. Sign in instead."))
    user = User(email=email, language=request_language(request))
    validate_password(password, user)  # raises ValidationError with the rules' own messages
    # Claim the invitation first: of two concurrent signups only one wins the conditional update.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
        accepted_at=timezone.now()
    )
    if claimed != 1:
        raise InvitationError(
            _("This invitation was already used. Sign in with your email and password.")
        )
    user.set_password(password)
    user.save()
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    # The link reached this address, so the address is verified.
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    membership = Membership.objects.create(
        tenant=invitation.tenant, user=user, role=invitation.role
    )
    audit_record(
        action="invitation.accepted",
        actor=user,
        tenant=invitation.tenant,
        target=membership,
        request=request,
        after={"email": email, "role": invitation.role},
    )
    return user


__all__ = [
    "InvitationError",
    "IssuedInvitation",
    "ValidationError",
    "invitation_accept",
    "invitation_check",
    "invitation_create_client",
    "invitation_create_viewer",
    "invitation_resend",
    "invitation_revoke",
    "invitation_send",
]
