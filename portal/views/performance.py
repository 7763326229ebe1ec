"""The performance page: equity and drawdown, trade returns, monthly returns, explained ratios."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import request_membership
from accounts.views.access import membership_required
from bots.models import Bot
from bots.selectors import tenant_bots
from reports import metrics
from reports.selectors import DEFAULT_RANGE, RANGES, Performance, performance


def chart_data(result: Performance) -> dict[str, Any]:
    """Plain JSON for the page script (Plotly): times as ISO strings, amounts as strings."""
    months = sorted(result.monthly_returns.items())
    return {
        "equity": {
            "x": [t.isoformat() for t, _ in result.equity],
            "y": [str(v) for _, v in result.equity],
        },
        "drawdown": {
            "x": [t.isoformat() for t, _ in result.drawdown],
            "y": [str(v * 100) for _, v in result.drawdown],
        },
        "returns": {
            "x": [str((b.low + b.high) / 2) for b in result.trade_returns],
            "y": [b.count for b in result.trade_returns],
            "width": str(result.trade_returns[0].high - result.trade_returns[0].low)
            if result.trade_returns
            else "0",
        },
        "monthly": {
            "years": sorted({y for (y, _m), _ in months}),
            "cells": [[y, m, str(v * 100)] for (y, m), v in months],
        },
    }


@require_GET
@membership_required
def performance_page(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    bots = list(tenant_bots(membership.tenant))
    chosen_bot: Bot | None = next((b for b in bots if str(b.pk) == request.GET.get("bot")), None)
    range_key = request.GET.get("range", DEFAULT_RANGE)
    result = performance(membership.tenant, range_key=range_key, bot=chosen_bot)
    context = {
        "membership": membership,
        "bots": bots,
        "chosen_bot": chosen_bot,
        "ranges": list(RANGES),
        "result": result,
        "chart": chart_data(result),
        "explain": metrics.METRIC_EXPLANATIONS,
        "undefined": metrics.UNDEFINED_EXPLANATIONS,
    }
    return render(request, "portal/performance.html", context)
