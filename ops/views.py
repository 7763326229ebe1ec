"""Operational views: the landing page and ``/healthz``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ops.health import run_health_checks


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public landing page (the client app arrives with the web-app issue)."""
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with every check's state when all are up; 503 naming what is down otherwise."""
    results = run_health_checks()
    healthy = all(r.ok for r in results.values())
    body = {
        "status": "ok" if healthy else "fail",
        "checks": {name: r.as_dict() for name, r in results.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)
