"""Audit events for authentication and admin actions, from Django's and allauth's signals."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_init, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import Membership, Tenant, User
from accounts.services.audit import audit_record


def _tenant_of(user: User | None) -> Tenant | None:
    if user is None or not user.pk:
        return None
    membership = Membership.objects.filter(user=user).select_related("tenant").first()
    return membership.tenant if membership else None


@receiver(auth_signals.user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **_: Any) -> None:
    audit_record(action="auth.login", actor=user, tenant=_tenant_of(user), request=request)


@receiver(auth_signals.user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **_: Any) -> None:
    if user is not None:
        audit_record(action="auth.logout", actor=user, tenant=_tenant_of(user), request=request)


@receiver(auth_signals.user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    # Django already masks the password in ``credentials``; only the attempted login is kept.
    attempted = str(
        credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    )
    user = User.objects.filter(email__iexact=attempted).first() if attempted else None
    audit_record(
        action="auth.login_failed",
        actor=None,
        actor_email=attempted[:254],
        tenant=_tenant_of(user),
        target=user,
        request=request,
    )


@receiver(account_signals.password_changed)
@receiver(account_signals.password_reset)
def audit_password(sender: Any, request: HttpRequest, user: User, **_: Any) -> None:
    audit_record(
        action="auth.password_changed", actor=user, tenant=_tenant_of(user), request=request
    )


@receiver(mfa_signals.authenticator_added)
@receiver(mfa_signals.authenticator_removed)
@receiver(mfa_signals.authenticator_reset)
def audit_mfa(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    signal = kwargs.get("signal")
    verb = {
        mfa_signals.authenticator_added: "added",
        mfa_signals.authenticator_removed: "removed",
        mfa_signals.authenticator_reset: "reset",
    }.get(signal, "changed")
    audit_record(
        action=f"mfa.{authenticator.type}_{verb}",
        actor=user,
        tenant=_tenant_of(user),
        request=request,
    )


def _tenant_of_object(entry: LogEntry) -> Tenant | None:
    """The tenant an admin change touched, so it shows in that client's own audit trail: the
    tenant itself, a row that belongs to one, or a member's user."""
    model = entry.content_type.model_class() if entry.content_type else None
    if model is None or not entry.object_id:
        return None
    if model is Tenant:
        return Tenant.objects.filter(pk=entry.object_id).first()
    if model is User:
        return _tenant_of(User.objects.filter(pk=entry.object_id).first())
    if any(field.name == "tenant" for field in model._meta.get_fields()):
        tenant_id = model._default_manager.filter(pk=entry.object_id).values("tenant_id").first()
        if tenant_id and tenant_id["tenant_id"]:
            return Tenant.objects.filter(pk=tenant_id["tenant_id"]).first()
    return None


@receiver(post_save, sender=LogEntry)
def audit_admin_action(sender: Any, instance: LogEntry, created: bool, **_: Any) -> None:
    """Every change made through the admin also lands in the audit trail."""
    if not created:
        return
    verb = {1: "added", 2: "changed", 3: "deleted"}.get(instance.action_flag, "acted")
    content_type = instance.content_type
    audit_record(
        action=f"admin.{verb}",
        actor=instance.user,
        tenant=_tenant_of_object(instance),
        after={
            "model": f"{content_type.app_label}.{content_type.model}" if content_type else "",
            "object_id": instance.object_id or "",
            "object": instance.object_repr,
            "change": instance.get_change_message(),
        },
    )


@receiver(user_locked_out)
def notify_lockout(
    sender: Any, request: HttpRequest | None = None, username: str = "", **_: Any
) -> None:
    """The locked account's owner and the operators are told (once per lock)."""
    from accounts.services.lockout import lockout_notify

    if username:
        lockout_notify(username=username, request=request)


def _mfa_loaded(sender: Any, instance: Any, **_: Any) -> None:
    from accounts.adapters import mfa_note_loaded

    mfa_note_loaded(instance)


def _mfa_saving(sender: Any, instance: Any, **_: Any) -> None:
    from accounts.adapters import mfa_bind_to_user

    mfa_bind_to_user(instance)


# A client's TOTP secret and recovery seed are bound to their user at rest (accounts.adapters).
post_init.connect(_mfa_loaded, sender="mfa.Authenticator", dispatch_uid="accounts.mfa_loaded")
pre_save.connect(_mfa_saving, sender="mfa.Authenticator", dispatch_uid="accounts.mfa_saving")
