"""The worked year in docs/billing.md is what the close computes, to the cent."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from billing.fees import month_end
from billing.models import BillingSettings
from billing.services.close import period_close
from tests.factories import SubscriptionFactory

DOC = Path(__file__).resolve().parents[2] / "docs" / "billing.md"
COLUMNS = [
    "month",
    "equity start",
    "flow",
    "equity before flow",
    "equity end",
    "HWM start",
    "HWM after flow",
    "gain",
    "rate",
    "performance fee",
    "fixed fee",
    "total",
]


def amount(cell: str) -> Decimal | None:
    cell = cell.strip().replace(",", "")
    return Decimal(cell) if cell else None


def worked_example() -> tuple[list[dict[str, str]], str]:
    """The table's rows (column name: cell) and the sentence of year totals after it."""
    text = DOC.read_text()
    table = text.split("<!-- worked-example:start -->")[1].split("<!-- worked-example:end -->")[0]
    lines = [line for line in table.strip().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == COLUMNS
    rows = [dict(zip(header, line.strip("|").split("|"), strict=True)) for line in lines[2:]]
    totals = re.search(r"Over the year: (.*)\.", text)
    assert totals is not None
    return rows, totals.group(1)


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.mark.django_db
def test_the_worked_year_in_the_docs_is_what_the_close_computes(books_for):
    """The doc's books written as snapshots and flows, twelve months closed: every figure of
    every row, and the year's totals, equal the invoices to the cent."""
    rows, totals = worked_example()
    BillingSettings.objects.filter(pk=1).update(
        loyalty_after_months=6, loyalty_rate_reduction=Decimal("0.02")
    )
    subscription = SubscriptionFactory(starts_on=date(2026, 1, 1))
    books = books_for(subscription.tenant)
    books.snapshot(
        at(date(2026, 1, 1), 0, 0) - timedelta(minutes=5),
        rows[0]["equity start"].strip().replace(",", ""),
    )
    for row in rows:
        start = date.fromisoformat(row["month"].strip() + "-01")
        flow, before = amount(row["flow"]), amount(row["equity before flow"])
        if flow is not None and before is not None:
            mid = start.replace(day=15)
            books.snapshot(at(mid, 12, 0), str(before))
            books.flow(at(mid, 12, 1), str(flow))
            books.snapshot(at(mid, 12, 5), str(before + flow))
        books.snapshot(
            at(month_end(start), 0, 0) - timedelta(minutes=5), str(amount(row["equity end"]))
        )

    invoices = []
    for row in rows:
        start = date.fromisoformat(row["month"].strip() + "-01")
        invoice = period_close(
            tenant_id=subscription.tenant_id, period_start=start, issued_on=month_end(start)
        )
        assert invoice is not None
        invoices.append(invoice)
        lines = dict(invoice.lines.values_list("code", "amount_usdt"))
        computed = {
            "equity start": invoice.equity_start,
            "flow": Decimal(invoice.flows[0]["amount"]) if invoice.flows else None,
            "equity before flow": Decimal(invoice.flows[0]["equity_before"])
            if invoice.flows
            else None,
            "equity end": invoice.equity_end,
            "HWM start": invoice.hwm_start,
            "HWM after flow": invoice.hwm_adjusted,
            "gain": invoice.gain,
            "rate": invoice.performance_rate,
            "performance fee": lines["performance_fee"],
            "fixed fee": lines["fixed_fee"],
            "total": invoice.total,
        }
        assert computed == {column: amount(row[column]) for column in COLUMNS[1:]}, row["month"]

    fixed = sum((i.lines.get(code="fixed_fee").amount for i in invoices), Decimal(0))
    performance = sum((i.lines.get(code="performance_fee").amount for i in invoices), Decimal(0))
    total = sum((i.total for i in invoices), Decimal(0))
    assert (
        totals
        == f"fixed fees {fixed:,.2f}, performance fees {performance:,.2f}, total {total:,.2f}"
    )
