"""Operator admin for users, tenants, invitations, the audit trail and admin 2FA devices.

Actions call services, so admin changes follow the same rules (and audit) as the web app.
"""

from __future__ import annotations

from typing import Any

from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuditEvent, Invitation, Membership, OperatorTOTPDevice, Tenant, User
from accounts.services.data_rights import tenant_erase
from accounts.services.invitations import (
    InvitationError,
    invitation_create_client,
    invitation_resend,
    invitation_revoke,
)
from accounts.services.operator_otp import operator_totp_enrol
from accounts.services.tenants import tenant_disable, tenant_enable, tenant_suspend, user_unlock


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = ("email", "is_staff", "is_active", "last_login", "date_joined")
    list_filter = ("is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["unlock", "enrol_operator_totp"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Only a superuser hands out powers: an operator cannot make anyone (themselves
        # included) a superuser or change what a group may do.
        if request.user.is_superuser:
            return ("last_login", "date_joined")
        return ("last_login", "date_joined", "is_superuser", "groups", "user_permissions")

    @admin.action(description="Unlock after failed sign-ins", permissions=["change"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_unlock(user=user, by=request.user, request=request)  # type: ignore[arg-type]
        self.message_user(request, f"Unlocked {queryset.count()} account(s).")

    @admin.action(
        description="Enrol in admin two-factor (shows the secret once)", permissions=["change"]
    )
    def enrol_operator_totp(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(is_staff=True):
            if user.is_superuser and not request.user.is_superuser:
                # Enrolling is taking over the account's second factor: only a peer may.
                self.message_user(
                    request,
                    f"{user.email}: only a superuser can enrol a superuser.",
                    messages.ERROR,
                )
                continue
            enrolment = operator_totp_enrol(user=user, actor=request.user)  # type: ignore[arg-type]
            self.message_user(
                request,
                f"{user.email}: add this key to an authenticator app now (it is not shown again): "
                f"{enrolment.base32_secret}",
                messages.WARNING,
            )


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    """Read-only: members join through invitations, which audit and check the role."""

    model = Membership
    extra = 0
    can_delete = False
    fields = ("user", "role", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "status", "created_at", "deletion_requested_at", "anonymised_at")
    list_filter = ("status",)
    search_fields = ("name", "id")
    # The status changes only through the actions (services: audited, bots stopped).
    readonly_fields = ("id", "status", "created_at", "deletion_requested_at", "anonymised_at")
    inlines = [MembershipInline]
    actions = ["suspend", "disable", "enable", "erase"]

    @admin.action(
        description="Erase keys and personal data (after the client asked)", permissions=["delete"]
    )
    def erase(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            if tenant.deletion_requested_at is None:
                self.message_user(
                    request, f"{tenant}: the client has not asked for erasure.", messages.ERROR
                )
                continue
            tenant_erase(tenant=tenant, by=request.user, request=request)  # type: ignore[arg-type]
            self.message_user(request, f"{tenant}: erased.")

    @admin.action(
        description="Suspend (stops trading; members still sign in and pay)", permissions=["change"]
    )
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            tenant_suspend(tenant=tenant, by=request.user, request=request)  # type: ignore[arg-type]

    @admin.action(description="Disable (stops logins into it and trading)", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            tenant_disable(tenant=tenant, by=request.user, request=request)  # type: ignore[arg-type]

    @admin.action(description="Enable again", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            tenant_enable(tenant=tenant, by=request.user, request=request)  # type: ignore[arg-type]


class InviteClientForm(forms.ModelForm):  # type: ignore[type-arg]
    """Inviting a client creates their tenant; they become its owner."""

    tenant_name = forms.CharField(
        max_length=200, help_text="The client's account name, e.g. their company."
    )

    class Meta:
        model = Invitation
        fields = ["email"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "tenant", "role", "status", "expires_at", "sent_count", "invited_by")
    list_filter = ("role",)
    search_fields = ("email", "tenant__name")
    actions = ["resend", "revoke"]
    readonly_fields = (
        "tenant",
        "email",
        "role",
        "expires_at",
        "invited_by",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "sent_count",
        "last_sent_at",
        "created_at",
    )
    exclude = ("token_hash",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = InviteClientForm
            kwargs["fields"] = ["tenant_name", "email"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        if change:
            return
        issued = invitation_create_client(
            tenant_name=form.cleaned_data["tenant_name"],
            email=form.cleaned_data["email"],
            invited_by=request.user,  # type: ignore[arg-type]
            request=request,
        )
        # The admin logs and redirects with ``obj``: make it the invitation the service created.
        for field in Invitation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued.invitation, field.attname))
        obj._state.adding = False
        self.message_user(request, f"Invitation emailed to {issued.invitation.email}.")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description="Resend (new link, new expiry)", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset:
            try:
                invitation_resend(invitation=invitation, by=request.user, request=request)  # type: ignore[arg-type]
            except InvitationError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", messages.ERROR)

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset:
            try:
                invitation_revoke(invitation=invitation, by=request.user, request=request)  # type: ignore[arg-type]
            except InvitationError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", messages.ERROR)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the trail is append-only for everyone, operators included."""

    list_display = ("at", "action", "actor_email", "is_staff_action", "tenant", "target_repr", "ip")
    list_filter = ("action", "is_staff_action", "tenant")
    search_fields = ("action", "actor_email", "target_repr", "target_id", "tenant__name")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OperatorTOTPDevice)
class OperatorTOTPDeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "name", "confirmed", "last_used_at")
    fields = ("user", "name", "confirmed", "last_used_at", "throttling_failure_count")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # enrol through the user action, which shows the secret once


admin.site.unregister(UserSession)


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Who is signed in where, without the session key: with it a staff member could set the
    client's cookie and be them, past their second factor. Ending a session is the client's
    (Security -> Active sessions) or follows from disabling the tenant."""

    list_display = ("user", "created_at", "last_seen_at", "ip", "user_agent")
    fields = list_display
    readonly_fields = list_display
    search_fields = ("user__email", "ip")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
