"""Signing up from an invitation link."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.forms import InvitationAcceptForm
from accounts.services.invitations import InvitationError, invitation_accept, invitation_check


@never_cache
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the signup form for the invited address; POST creates the account and signs in."""
    try:
        invitation = invitation_check(token)
    except InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=410)
    form = InvitationAcceptForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error("password1", exc)
        except InvitationError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
            # They typed their password this instant: count it as a fresh authentication, so the
            # two-factor setup that follows does not ask for it again.
            record_authentication(request, user, method="password", reauthenticated=True)
            # Two-factor setup comes next (RequireClientTwoFactorMiddleware sends them there).
            return redirect("portal:dashboard")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )
