"""Access helpers every client view uses: a membership is required, writes need the owner role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
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
