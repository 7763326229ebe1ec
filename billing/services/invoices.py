"""Invoice states and numbers, and credit notes: an issued invoice is never edited.

States: ``draft`` -> ``issued`` -> ``paid`` / ``overdue`` / ``void`` (``overdue`` -> ``paid`` or
``void`` too). A number is taken when an invoice is issued, from its series' counter for the
year, locked in the same transaction, so numbers have no gaps even under concurrent closes.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from billing.fees import to_cent, to_currency
from billing.models import Invoice, InvoiceCounter, InvoiceLine
from billing.selectors import billing_settings


class InvoiceRefused(Exception):
    """The invoice cannot move that way (the message says why)."""


_MOVES: dict[str, set[str]] = {
    Invoice.State.DRAFT: {Invoice.State.ISSUED, Invoice.State.VOID},
    Invoice.State.ISSUED: {Invoice.State.PAID, Invoice.State.OVERDUE, Invoice.State.VOID},
    Invoice.State.OVERDUE: {Invoice.State.PAID, Invoice.State.VOID},
    Invoice.State.PAID: set(),
    Invoice.State.VOID: set(),
}


def _number_take(series: str, year: int) -> int:
    """The next number of the series and year; the counter row stays locked until the caller's
    transaction ends, so a rolled-back issue gives its number back."""
    InvoiceCounter.objects.get_or_create(series=series, year=year)
    counter = InvoiceCounter.objects.select_for_update().get(series=series, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def invoice_issue(*, invoice: Invoice, on: date) -> Invoice:
    """Give a draft its number and due date and issue it (one transaction with the counter)."""
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceRefused(f"invoice {invoice.pk} is {invoice.state}, not a draft")
    found = billing_settings()
    with transaction.atomic():
        series = (
            found.credit_note_series
            if invoice.kind == Invoice.Kind.CREDIT_NOTE
            else found.invoice_series
        )
        invoice.series, invoice.year = series, on.year
        invoice.number = _number_take(series, on.year)
        invoice.issued_on, invoice.due_on = on, on + timedelta(days=found.payment_days)
        invoice.state = Invoice.State.ISSUED
        invoice.save(update_fields=["series", "year", "number", "issued_on", "due_on", "state"])
    return invoice


def invoice_move(*, invoice: Invoice, to: str) -> Invoice:
    """Mark an issued invoice paid, overdue or void (a conditional update: a concurrent move of
    the same invoice loses instead of overwriting)."""
    if to == Invoice.State.ISSUED:
        raise InvoiceRefused("an invoice is issued with invoice_issue")
    if to not in _MOVES[invoice.state]:
        raise InvoiceRefused(f"invoice {invoice.pk} cannot go from {invoice.state} to {to}")
    if not Invoice.objects.filter(pk=invoice.pk, state=invoice.state).update(state=to):
        raise InvoiceRefused(f"invoice {invoice.pk} changed meanwhile")
    invoice.state = to
    return invoice


def credit_note_create(*, invoice: Invoice, amount_usdt: Decimal, reason: str, on: date) -> Invoice:
    """Correct an issued invoice by crediting ``amount_usdt`` (positive) back, at the invoice's
    own rate; the credit note is issued at once with its own series' number."""
    if invoice.kind != Invoice.Kind.INVOICE or invoice.number is None:
        raise InvoiceRefused("only an issued invoice can be corrected")
    amount_usdt = to_cent(amount_usdt)
    # Credit notes carry negative totals: what is left to credit is the total plus them.
    left = invoice.total_usdt + sum(
        (note.total_usdt for note in invoice.credit_notes.exclude(state=Invoice.State.VOID)),
        Decimal(0),
    )
    if amount_usdt <= 0 or amount_usdt > left:
        raise InvoiceRefused("a credit note credits more than zero and at most what is left")
    with transaction.atomic():
        note = Invoice.objects.create(
            tenant_id=invoice.tenant_id,
            kind=Invoice.Kind.CREDIT_NOTE,
            corrects=invoice,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            currency=invoice.currency,
            usdt_rate=invoice.usdt_rate,
            total_usdt=-amount_usdt,
            total=-to_currency(amount_usdt, invoice.usdt_rate),
        )
        InvoiceLine.objects.create(
            invoice=note,
            position=1,
            code=InvoiceLine.Code.CREDIT,
            basis={"reason": reason},
            amount_usdt=note.total_usdt,
            amount=note.total,
        )
        return invoice_issue(invoice=note, on=on)
