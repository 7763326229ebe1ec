"""Per-request account rules: two-factor before any data, and the membership the request acts through."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# Paths a signed-in user without a second factor may still reach: login/logout/2FA setup itself,
# invitation and emergency-stop links, static files, health checks, and the admin (django-otp guards it separately).
TWO_FACTOR_EXEMPT_PREFIXES = (
    "/accounts/",
    "/invite/",
    "/emergency/",
    "/static/",
    "/healthz",
    "/admin/",
    "/i18n/",
)
MEMBERSHIP_SESSION_KEY = "tenant_id"


def user_has_second_factor(user: object) -> bool:
    return bool(
        Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
    )


class RequireClientTwoFactorMiddleware:
    """allauth does not force enrolment; this does, before a client sees any data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)
            and request.path != "/"
            and not user_has_second_factor(user)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class CurrentMembershipMiddleware:
    """Sets ``request.membership``: the user's membership in the tenant chosen in the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            from accounts.selectors import membership_in_use

            current = membership_in_use(request.user, request.session.get(MEMBERSHIP_SESSION_KEY))
            request.membership = current  # type: ignore[attr-defined]
            if current is not None:
                import structlog

                structlog.contextvars.bind_contextvars(tenant_id=str(current.tenant_id))
        return self.get_response(request)


# Requests a page makes by itself (the dashboard's fragment refresh, ``static/js/live.js``) send
# this header; they must not count as the person being there.
BACKGROUND_REQUEST_HEADER = "HTTP_X_REQUESTED_WITH"
BACKGROUND_REQUEST_VALUE = "fetch"


class IdleTimeoutMiddleware:
    """The session's expiry moves forward on what a person does, not on a page's own refreshes.

    ``SESSION_COOKIE_AGE`` is the idle timeout. Saving the session on every request (Django's
    ``SESSION_SAVE_EVERY_REQUEST``) would let an open dashboard, which refreshes its live
    fragment every 30 s while the socket is down, keep a session alive for ever on an unattended
    screen. So the session is re-saved (its expiry and cookie renewed) only for requests that are
    not background refreshes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        background = request.META.get(BACKGROUND_REQUEST_HEADER) == BACKGROUND_REQUEST_VALUE
        session = getattr(request, "session", None)
        if session is not None and not background and not session.is_empty():
            session.modified = True  # SessionMiddleware saves it and renews the cookie
        return response
