"""Authentication edge cases: the lockout page shown by axes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """After too many failed sign-ins the account is locked for the cool-off."""
    from django.conf import settings

    cooloff = settings.AXES_COOLOFF_TIME
    minutes = int(cooloff.total_seconds() // 60) if cooloff else 0
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=403)
