"""The monthly period close: one invoice per tenant and period, its calculation line by line.

Steps, for the month starting ``period_start``:
1. the fence: an existing invoice of the tenant's period is returned as it is (closing twice, or
   concurrently, gives one invoice; the unique row decides the race);
2. the subscription billing the month, and where the HWM was left (the previous close, else the
   equity when billing began);
3. the books (``bots.books.tenant_period``): equity at both ends and each flow with the equity just
   before it, from the previous close's end (so no flow falls between two closes);
4. the fees (``billing.fees``), computed in USDT and converted at the operator's rate, stored on
   the invoice with each line's basis;
5. the invoice is inserted and issued in one transaction, which takes its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import fees
from billing.models import Invoice, InvoiceLine, Subscription
from billing.selectors import (
    billing_settings,
    invoice_before,
    profitable_months,
    subscribed_since,
    subscription_for_period,
)
from billing.services.invoices import invoice_issue
from bots.books import tenant_period

log = structlog.stdlib.get_logger(__name__)
ZERO = Decimal(0)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def previous_period_start(today: date) -> date:
    """The first day of the month before ``today``'s: the period a close on ``today`` bills."""
    first = today.replace(day=1)
    return (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )


@dataclass(frozen=True)
class _Line:
    code: str
    amount_usdt: Decimal
    basis: dict[str, str]


def _fixed_lines(
    subscription: Subscription, since: date, period_start: date, free: bool, discount: Decimal
) -> list[_Line]:
    """The fixed fee: an annual plan's year opens with its own row; a monthly plan's first
    (free or prorated) period is the tenant's first, whatever plan changes came after."""
    plan = subscription.plan
    if subscription.cycle == Subscription.Cycle.ANNUAL:
        if not fees.annual_fee_due(
            period_start=period_start, subscribed_from=subscription.starts_on
        ):
            return []
        amount = fees.annual_fee(monthly_fee=plan.monthly_fee, discount=discount)
        return [
            _Line(
                InvoiceLine.Code.ANNUAL_FEE,
                amount,
                {"monthly_fee": str(plan.monthly_fee), "months": "12", "discount": str(discount)},
            )
        ]
    amount = fees.fixed_fee(
        monthly_fee=plan.monthly_fee,
        period_start=period_start,
        subscribed_from=since,
        first_period_free=free,
    )
    return [
        _Line(
            InvoiceLine.Code.FIXED_FEE,
            amount,
            {
                "monthly_fee": str(plan.monthly_fee),
                "subscribed_from": since.isoformat(),
                "first_period_free": str(free).lower(),
            },
        )
    ]


def period_close(
    *, tenant_id: Any, period_start: date, issued_on: date | None = None
) -> Invoice | None:
    """Close the tenant's month starting ``period_start``: its invoice, issued (None when no
    subscription bills that month). Idempotent: a closed period's invoice is returned as it is."""
    period_start = period_start.replace(day=1)
    existing: Invoice | None = Invoice.objects.filter(
        tenant_id=tenant_id, kind=Invoice.Kind.INVOICE, period_start=period_start
    ).first()
    if existing is not None:
        return existing
    subscription = subscription_for_period(tenant_id, period_start)
    if subscription is None:
        return None
    settings = billing_settings()
    period_end = fees.month_end(period_start)
    previous = invoice_before(tenant_id, period_start)
    began = max(period_start, subscription.starts_on)
    window_start = _midnight(previous.period_end if previous else began)
    books = tenant_period(tenant_id, start=window_start, end=_midnight(period_end))
    hwm_start = previous.hwm_end if previous else (books.equity_start or ZERO)
    rate = fees.performance_rate(
        plan_rate=subscription.plan.performance_rate,
        profitable_months=profitable_months(tenant_id, period_start),
        loyalty_after=settings.loyalty_after_months,
        loyalty_reduction=settings.loyalty_rate_reduction,
    )
    performance = fees.performance_fee(
        hwm_start=hwm_start,
        equity_end=books.equity_end if books.equity_end is not None else hwm_start,
        flows=[fees.Flow(f.amount, f.equity_before) for f in books.flows],
        rate=rate,
    )
    since = subscribed_since(tenant_id) or subscription.starts_on
    lines = _fixed_lines(
        subscription, since, period_start, settings.first_month_free, settings.annual_discount
    )
    lines.append(
        _Line(
            InvoiceLine.Code.PERFORMANCE_FEE,
            performance.fee,
            {
                "hwm_start": str(performance.hwm_start),
                "hwm_adjusted": str(performance.hwm_adjusted),
                "equity_end": str(performance.equity_end),
                "gain": str(performance.gain),
                "rate": str(rate),
            },
        )
    )
    total_usdt = sum((line.amount_usdt for line in lines), ZERO)
    total = sum((fees.to_currency(line.amount_usdt, settings.usdt_rate) for line in lines), ZERO)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                tenant_id=tenant_id,
                kind=Invoice.Kind.INVOICE,
                subscription=subscription,
                period_start=period_start,
                period_end=period_end,
                currency=settings.currency,
                usdt_rate=settings.usdt_rate,
                equity_start=books.equity_start,
                equity_end=books.equity_end,
                net_flows=books.net_flows,
                flows=[
                    {
                        "at": f.recorded_at.isoformat(),
                        "amount": str(f.amount),
                        "equity_before": None if f.equity_before is None else str(f.equity_before),
                    }
                    for f in books.flows
                ],
                hwm_start=performance.hwm_start,
                hwm_adjusted=performance.hwm_adjusted,
                gain=performance.gain,
                performance_rate=rate,
                hwm_end=performance.hwm_end,
                total_usdt=total_usdt,
                total=total,
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(
                    invoice=invoice,
                    position=n,
                    code=line.code,
                    basis=line.basis,
                    amount_usdt=line.amount_usdt,
                    amount=fees.to_currency(line.amount_usdt, settings.usdt_rate),
                )
                for n, line in enumerate(lines, start=1)
            )
            invoice_issue(invoice=invoice, on=issued_on or timezone.now().date())
    except IntegrityError:
        # Another close of the same period won the race: its invoice is the one.
        return Invoice.objects.get(
            tenant_id=tenant_id, kind=Invoice.Kind.INVOICE, period_start=period_start
        )
    log.info(
        "billing.period_closed",
        tenant_id=str(tenant_id),
        period=period_start.isoformat(),
        invoice=invoice.display_number,
        total_usdt=str(total_usdt),
    )
    return invoice
