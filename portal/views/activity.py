"""What the bots did and why, in the strategy's and the engine's own words."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import request_membership
from accounts.views.access import membership_required
from bots.selectors import bot_activity


@require_GET
@membership_required
def activity(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    ticks = bot_activity(membership.tenant)
    if request.GET.get("orders") == "1":
        ticks = ticks.filter(intents__isnull=False).distinct()
    page = Paginator(ticks, 50).get_page(request.GET.get("page"))
    context = {
        "membership": membership,
        "page": page,
        "only_orders": request.GET.get("orders") == "1",
    }
    return render(request, "portal/activity.html", context)
