"""The client's account pages: overview, team, activity (audit trail), security."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
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
from accounts.services.invitations import (
    InvitationError,
    invitation_create_viewer,
    invitation_resend,
    invitation_revoke,
)
from accounts.views.access import membership_required, owner_required, signed_in_user
from exchange.models import ExchangeConnection


@require_GET
@membership_required
def client_home(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    tenant = membership.tenant
    context = {
        "membership": membership,
        "tenant": tenant,
        "connections": ExchangeConnection.objects.filter(tenant=tenant).exclude(
            status=ExchangeConnection.Status.RETIRED
        ),
        "members": tenant_members(tenant),
    }
    return render(request, "accounts/home.html", context)


@require_GET
@membership_required
def client_team(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    context = {
        "membership": membership,
        "members": tenant_members(membership.tenant),
        "invitations": tenant_invitations(membership.tenant).filter(accepted_at=None)[:50],
        "form": ViewerInviteForm(),
    }
    return render(request, "accounts/team.html", context)


@require_POST
@owner_required
@reauthentication_required
def client_team_invite(request: HttpRequest) -> HttpResponse:
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
            return redirect("client_team")
    context = {
        "membership": membership,
        "members": tenant_members(membership.tenant),
        "invitations": tenant_invitations(membership.tenant).filter(accepted_at=None)[:50],
        "form": form,
    }
    return render(request, "accounts/team.html", context, status=400)


@require_POST
@owner_required
def client_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    invitation = tenant_object_or_404(Invitation.objects.all(), membership.tenant, pk=pk)
    try:
        invitation_revoke(invitation=invitation, by=signed_in_user(request), request=request)
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Invitation withdrawn."))
    return redirect("client_team")


@require_POST
@owner_required
def client_invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    invitation = tenant_object_or_404(Invitation.objects.all(), membership.tenant, pk=pk)
    try:
        invitation_resend(invitation=invitation, by=signed_in_user(request), request=request)
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Invitation sent again with a new link."))
    return redirect("client_team")


@require_GET
@membership_required
def client_audit(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    events = tenant_audit_events(membership.tenant)
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "accounts/audit.html", {"membership": membership, "page": page, "action": action}
    )


@require_GET
@membership_required
def client_security(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/security.html", {"membership": request_membership(request)})


@require_GET
@membership_required
def client_keys(request: HttpRequest) -> HttpResponse:
    """The tenant's exchange keys: last four characters, permissions, validation state; never a secret."""
    membership = request_membership(request)
    connections = ExchangeConnection.objects.filter(tenant=membership.tenant)
    return render(
        request, "accounts/keys.html", {"membership": membership, "connections": connections}
    )
