"""Operational views: the landing page and ``/healthz``."""

from __future__ import annotations

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ops.health import run_health_checks

log = structlog.stdlib.get_logger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public landing page (the client app arrives with the web-app issue)."""
    return render(request, "home.html")


def _sees_details(request: HttpRequest) -> bool:
    """Staff signed in through the admin's second factor; the public (load balancers, uptime
    checks, anyone) get only which check is up."""
    user = request.user
    return bool(user.is_authenticated and user.is_staff and getattr(user, "is_verified", bool)())


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every check is up, 503 naming what is down. Only verified staff see each
    check's detail (worker host names, error text); failures are logged with it for everyone
    else to find in the logs."""
    results = run_health_checks()
    healthy = all(r.ok for r in results.values())
    for name, result in results.items():
        if not result.ok:
            log.warning("healthz.check_failed", check=name, detail=result.detail)
    detailed = _sees_details(request)
    checks = {
        name: r.as_dict() if detailed else {"ok": r.ok, "latency_ms": r.latency_ms}
        for name, r in results.items()
    }
    body = {"status": "ok" if healthy else "fail", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)
