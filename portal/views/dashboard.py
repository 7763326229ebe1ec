"""The dashboard: every bot's state and P&L, positions, last orders and fills, alerts.

The live part of the page is one fragment (``portal/_dashboard_live.html``): the page script
fetches it again whenever the WebSocket says something changed, or every 30 s while the socket
is down, so numbers are formatted once, on the server, in the client's language.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.selectors import request_membership
from accounts.views.access import membership_required
from bots.market import bots_readiness
from bots.selectors import dashboard_summary


def _context(request: HttpRequest) -> dict[str, object]:
    membership = request_membership(request)
    summary = dashboard_summary(membership.tenant)
    return {
        "membership": membership,
        "tenant": membership.tenant,
        "summary": summary,
        # Running bots that cannot decide yet say so ("warming up" / "waiting for market data").
        "readiness": bots_readiness([row.bot for row in summary.bots]),
        "can_change": membership.can_change,
        "return_to": reverse("portal:dashboard"),  # the fragment's forms lead back to the page
    }


@require_GET
@membership_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/dashboard.html", _context(request))


@never_cache
@require_GET
@membership_required
def dashboard_live(request: HttpRequest) -> HttpResponse:
    """The dashboard's live fragment, for the page script to swap in without a reload."""
    return render(request, "portal/_dashboard_live.html", _context(request))
