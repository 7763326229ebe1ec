"""The per-IP login limit, shared by the client login (allauth) and the operator's admin login."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.core.ratelimit import consume_or_429
from django.http import HttpRequest, HttpResponse


def admin_login_rate_limited(
    login_view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Apply allauth's ``login`` IP budget (``ACCOUNT_RATE_LIMITS``) to the admin login form."""

    @wraps(login_view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            refused: HttpResponse | None = consume_or_429(request, action="login")
            if refused is not None:
                return refused
        response: HttpResponse = login_view(request, *args, **kwargs)
        return response

    return wrapper
