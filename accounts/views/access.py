"""Access helpers every client view uses: a membership is required, writes need the owner role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.selectors import request_membership

View = Callable[..., HttpResponseBase]


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, for views behind ``membership_required`` (always signed in)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("Sign in first."))
    return user


def membership_required(view: View) -> View:
    """Signed in (2FA is enforced by middleware) and a member of an active tenant; else 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request_membership(request)
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view: View) -> View:
    """Changes are the owner's: a viewer gets 403 on every write, checked on the server."""

    @membership_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request_membership(request).role != Membership.Role.OWNER:
            raise PermissionDenied(_("Viewers can see everything but change nothing."))
        return view(request, *args, **kwargs)

    return wrapper


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form came from (``next``, same host only), else ``default``."""
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def password_recently_confirmed(request: HttpRequest) -> bool:
    """allauth's own rule: signed in and the password (or the second factor) confirmed within
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT``."""
    from allauth.account.internal.flows.reauthentication import is_reauthentication_required

    return not is_reauthentication_required(request, app="")


def reauthentication_url(request: HttpRequest, *, next_url: str) -> str:
    """Where allauth confirms this user's password, coming back to ``next_url`` (a GET page)."""
    from allauth.account.adapter import get_adapter

    methods = get_adapter(request).get_reauthentication_methods(request.user)
    base = methods[0]["url"] if methods else reverse("account_login")
    return f"{base}?{urlencode({'next': next_url})}"


def fresh_password_required(return_to: str) -> Callable[[View], View]:
    """A sensitive write needs a password confirmed in the last few minutes; without one, the
    user is sent to allauth's reauthentication and back to the ``return_to`` page, and the
    posted form is dropped.

    allauth's ``reauthentication_required`` would instead serialise the whole POST into the
    session and replay it after the password: an API or webhook secret typed into the form would
    sit in clear in the session table (and every backup of it) until then. The pages behind this
    decorator ask for the password before showing their form (``password_recently_confirmed``),
    so nothing typed is lost in the normal flow.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not password_recently_confirmed(request):
                from django.contrib import messages
                from django.shortcuts import redirect

                messages.info(
                    request,
                    _("Confirm your password first, then send the form again: nothing was saved."),
                )
                return redirect(reauthentication_url(request, next_url=reverse(return_to)))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
