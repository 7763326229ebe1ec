"""The client's account pages: overview, team, activity (audit trail), security."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import ViewerInviteForm
from accounts.models import Invitation
from accounts.selectors import (
    request_membership,
    tenant_audit_events,
    tenant_invitations,
    tenant_members,
    tenant_object_or_404,
)
from accounts.services.data_rights import tenant_deletion_request, tenant_export_zip
from accounts.services.invitations import (
    InvitationError,
    invitation_create_viewer,
    invitation_resend,
    invitation_revoke,
)
from accounts.views.access import (
    fresh_password_required,
    membership_required,
    owner_required,
    password_recently_confirmed,
    reauthentication_url,
    signed_in_user,
)
from exchange.forms import ExchangeKeyForm, ReplaceKeyForm
from exchange.models import ExchangeConnection
from exchange.services.keys import (
    KeyRefused,
    exchange_key_connect,
    exchange_key_replace,
    exchange_key_retire,
    exchange_key_validate,
)


@require_GET
@membership_required
def team(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    context = {
        "membership": membership,
        "members": tenant_members(membership.tenant),
        "invitations": tenant_invitations(membership.tenant).filter(accepted_at=None)[:50],
        "form": ViewerInviteForm(),
    }
    return render(request, "portal/team.html", context)


@require_POST
@owner_required
@fresh_password_required("portal:team")
def team_invite(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    form = ViewerInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation_create_viewer(
                tenant=membership.tenant,
                email=form.cleaned_data["email"],
                invited_by=signed_in_user(request),
                request=request,
            )
        except InvitationError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("portal:team")
    context = {
        "membership": membership,
        "members": tenant_members(membership.tenant),
        "invitations": tenant_invitations(membership.tenant).filter(accepted_at=None)[:50],
        "form": form,
    }
    return render(request, "portal/team.html", context, status=400)


def _invitation_action(
    request: HttpRequest, pk: int, action: Callable[..., object], done: str
) -> HttpResponse:
    """Run ``action`` on one of the tenant's invitations and say how it went."""
    membership = request_membership(request)
    invitation = tenant_object_or_404(Invitation.objects.all(), membership.tenant, pk=pk)
    try:
        action(invitation=invitation, by=signed_in_user(request), request=request)
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("portal:team")


@require_POST
@owner_required
def team_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(request, pk, invitation_revoke, _("Invitation withdrawn."))


@require_POST
@owner_required
def team_invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(
        request, pk, invitation_resend, _("Invitation sent again with a new link.")
    )


@require_GET
@membership_required
def audit(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    events = tenant_audit_events(membership.tenant)
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "portal/audit.html", {"membership": membership, "page": page, "action": action}
    )


@require_GET
@membership_required
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/security.html", {"membership": request_membership(request)})


def _keys_page(
    request: HttpRequest, form: ExchangeKeyForm | None = None, status: int = 200
) -> HttpResponse:
    membership = request_membership(request)
    connections = ExchangeConnection.objects.filter(tenant=membership.tenant)
    context = {
        "membership": membership,
        "connections": connections,
        "form": form or ExchangeKeyForm(),
        # The secret is typed only after the password was confirmed, so it is never posted to
        # a view that must turn it away (see fresh_password_required).
        "password_confirmed": password_recently_confirmed(request),
        "reauthenticate_url": reauthentication_url(request, next_url=reverse("portal:keys")),
    }
    return render(request, "portal/keys.html", context, status=status)


@require_GET
@membership_required
def keys(request: HttpRequest) -> HttpResponse:
    """The tenant's exchange keys: last four characters, permissions, validation state; never a secret."""
    return _keys_page(request)


@require_POST
@owner_required
@fresh_password_required("portal:keys")
def key_connect(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    form = ExchangeKeyForm(request.POST)
    if form.is_valid():
        try:
            connection = exchange_key_connect(
                tenant=membership.tenant,
                environment=form.cleaned_data["environment"],
                api_key=form.cleaned_data["api_key"],
                api_secret=form.cleaned_data["api_secret"],
                label=form.cleaned_data["label"],
                by=signed_in_user(request),
                request=request,
            )
        except KeyRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Key …%(last4)s connected and validated.") % {"last4": connection.api_key_last4},
            )
            return redirect("portal:keys")
    return _keys_page(request, form, status=400)


@require_POST
@owner_required
def key_validate(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    connection = tenant_object_or_404(ExchangeConnection.objects.all(), membership.tenant, pk=pk)
    connection = exchange_key_validate(
        connection=connection, by=signed_in_user(request), request=request
    )
    if connection.status == ExchangeConnection.Status.ACTIVE:
        messages.success(request, _("The key works."))
    else:
        messages.error(request, connection.last_error)
    return redirect("portal:keys")


@require_POST
@owner_required
@fresh_password_required("portal:keys")
def key_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    connection = tenant_object_or_404(ExchangeConnection.objects.all(), membership.tenant, pk=pk)
    exchange_key_retire(connection=connection, by=signed_in_user(request), request=request)
    messages.success(request, _("Key deleted."))
    return redirect("portal:keys")


@require_POST
@owner_required
@fresh_password_required("portal:keys")
def key_replace(request: HttpRequest, pk: int) -> HttpResponse:
    """Rotation: move everything from this key to a newer, validated one, then delete this one."""
    membership = request_membership(request)
    old = tenant_object_or_404(ExchangeConnection.objects.all(), membership.tenant, pk=pk)
    form = ReplaceKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the new key that replaces this one."))
        return redirect("portal:keys")
    new = tenant_object_or_404(
        ExchangeConnection.objects.all(), membership.tenant, pk=form.cleaned_data["replacement"]
    )
    try:
        exchange_key_replace(old=old, new=new, by=signed_in_user(request), request=request)
    except KeyRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Key rotated: everything now uses …%(last4)s.") % {"last4": new.api_key_last4},
        )
    return redirect("portal:keys")


@require_POST
@owner_required
@fresh_password_required("portal:security")
def data_export(request: HttpRequest) -> HttpResponse:
    """Everything held on the tenant, as a zip download (owner only, after reauthentication)."""
    membership = request_membership(request)
    payload = tenant_export_zip(
        tenant=membership.tenant, by=signed_in_user(request), request=request
    )
    response = HttpResponse(payload, content_type="application/zip")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="tradingsvc-export-{stamp}.zip"'
    return response


@require_POST
@owner_required
@fresh_password_required("portal:security")
def data_delete(request: HttpRequest) -> HttpResponse:
    """Ask for erasure; typing DELETE confirms it. The operator carries it out."""
    membership = request_membership(request)
    if request.POST.get("confirm", "").strip().upper() != "DELETE":
        messages.error(request, _("Type DELETE to confirm that you want your data erased."))
        return redirect("portal:security")
    tenant_deletion_request(tenant=membership.tenant, by=signed_in_user(request), request=request)
    messages.success(
        request,
        _(
            "Your request is recorded. We will erase your data and confirm by email; invoices and the audit trail are kept anonymised, as the law requires."
        ),
    )
    return redirect("portal:security")
