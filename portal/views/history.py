"""Orders and fills: paginated, filtered by bot, market and dates, downloadable as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.selectors import request_membership
from accounts.views.access import membership_required
from bots.forms import HistoryFilterForm
from bots.selectors import recent_fills, recent_orders
from tradingsvc.lib.spreadsheet import csv_cell
from tradingsvc.lib.utc import utc_day_start

PAGE_SIZE = 50
ORDER_COLUMNS = [
    ("created_at", "created_at"),
    ("bot", "bot__name"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("type", "order_type"),
    ("qty", "qty"),
    ("price", "price"),
    ("state", "state"),
    ("filled_qty", "filled_qty"),
    ("avg_fill_price", "avg_fill_price"),
    ("order_link_id", "order_link_id"),
    ("exchange_order_id", "exchange_order_id"),
    ("reason", "reason"),
    ("error", "error"),
]
FILL_COLUMNS = [
    ("exec_time", "exec_time"),
    ("bot", "bot__name"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("qty", "qty"),
    ("price", "price"),
    ("fee", "fee"),
    ("realised_pnl", "realised_pnl"),
    ("simulated", "simulated"),
    ("exec_id", "exec_id"),
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filtered(request: HttpRequest) -> tuple[HistoryFilterForm, str, QuerySet[Any]]:
    tenant = request_membership(request).tenant
    form = HistoryFilterForm(request.GET or None, tenant=tenant)
    data = form.cleaned_data if form.is_valid() else {}
    kind = data.get("kind") or "orders"
    rows: QuerySet[Any] = recent_orders(tenant) if kind == "orders" else recent_fills(tenant)
    stamp = "created_at" if kind == "orders" else "exec_time"
    if data.get("bot"):
        rows = rows.filter(bot=data["bot"])
    if data.get("symbol"):
        rows = rows.filter(symbol__iexact=data["symbol"].strip())
    if data.get("date_from"):
        start = utc_day_start(data["date_from"])
        rows = rows.filter(**{f"{stamp}__gte": start})
    if data.get("date_to"):
        end = utc_day_start(data["date_to"]) + timedelta(days=1)
        rows = rows.filter(**{f"{stamp}__lt": end})
    return form, kind, rows


@require_GET
@membership_required
def history(request: HttpRequest) -> HttpResponse:
    form, kind, rows = _filtered(request)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "membership": request_membership(request),
        "form": form,
        "kind": kind,
        "page": page,
        "query": query.urlencode(),
    }
    return render(request, "portal/history.html", context)


def _csv_rows(rows: QuerySet[Any], columns: list[tuple[str, str]]) -> Iterator[list[object]]:
    yield [title for title, _field in columns]
    for values in rows.values_list(*[f for _title, f in columns]).iterator(chunk_size=2000):
        yield [csv_cell(v) for v in values]


@require_GET
@membership_required
def history_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered rows as CSV (UTC times, exact decimals), streamed so any size downloads."""
    _form, kind, rows = _filtered(request)
    columns = ORDER_COLUMNS if kind == "orders" else FILL_COLUMNS
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(rows, columns)), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="tradingsvc-{kind}-{stamp}.csv"'
    return response
