"""The monthly close: one invoice per tenant and period from the books, numbered without gaps."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection

from billing.models import BillingSettings, Invoice, InvoiceLine, Plan, Subscription
from billing.services.close import period_close, previous_period_start
from billing.services.invoices import InvoiceRefused, credit_note_create, invoice_move
from billing.services.subscriptions import subscription_change
from tests.factories import SubscriptionFactory, TenantFactory

D = Decimal
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def october_and_november(books) -> None:
    """10,000 at the start; a 2,000 deposit; 13,000 at October's end; half withdrawn at 14,000
    in November; 6,800 at its end."""
    books.snapshot(at("2026-09-30 23:55"), "10000")
    books.snapshot(at("2026-10-10 12:00"), "10500")
    books.flow(at("2026-10-10 12:01"), "2000")
    books.snapshot(at("2026-10-10 12:05"), "12500")
    books.snapshot(at("2026-10-31 23:55"), "13000")
    books.snapshot(at("2026-11-15 00:00"), "14000")
    books.flow(at("2026-11-15 00:01"), "-7000")
    books.snapshot(at("2026-11-30 23:55"), "6800")


def lines(invoice: Invoice) -> list[tuple[str, Decimal]]:
    return list(invoice.lines.values_list("code", "amount"))


@pytest.mark.django_db
def test_a_close_bills_the_gain_above_the_moved_hwm_and_stores_the_calculation(books_for):
    """October (free month): HWM 10,000 + 2,000 deposited = 12,000, 13,000 at the end: 15 % of
    1,000 = 150. November: half withdrawn halves the HWM to 6,500; 6,800 at the end: 45 + 75."""
    subscription = SubscriptionFactory()
    october_and_november(books_for(subscription.tenant))

    october = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)
    november = period_close(tenant_id=subscription.tenant_id, period_start=NOV, issued_on=DEC)

    assert october is not None and november is not None
    assert (october.equity_start, october.equity_end, october.net_flows) == (
        D(10000),
        D(13000),
        D(2000),
    )
    assert (october.hwm_start, october.hwm_adjusted, october.gain, october.hwm_end) == (
        D(10000),
        D(12000),
        D(1000),
        D(13000),
    )
    assert october.flows == [
        {
            "at": "2026-10-10T12:01:00+00:00",
            "amount": "2000.0000000000",
            "equity_before": "10500.0000000000",
        }
    ]
    assert lines(october) == [("fixed_fee", D(0)), ("performance_fee", D("150.00"))]
    assert (november.hwm_adjusted, november.gain, november.hwm_end) == (D(6500), D(300), D(6800))
    assert lines(november) == [("fixed_fee", D("75.00")), ("performance_fee", D("45.00"))]
    assert (november.total_usdt, november.total, november.state) == (
        D("120.00"),
        D("120.00"),
        "issued",
    )
    assert [october.display_number, november.display_number] == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]
    assert november.due_on == date(2026, 12, 15)


@pytest.mark.django_db
def test_fees_in_usdt_are_invoiced_in_the_operators_currency_at_the_stored_rate(books_for):
    """At 5.4321 BRL per USDT, October's 150.00 USDT is 814.82 BRL, and the rate stays on the
    invoice when the operator's rate moves later."""
    BillingSettings.objects.filter(pk=1).update(currency="BRL", usdt_rate=D("5.4321"))
    subscription = SubscriptionFactory()
    october_and_november(books_for(subscription.tenant))

    october = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)
    BillingSettings.objects.filter(pk=1).update(usdt_rate=D(6))

    assert october is not None
    october.refresh_from_db()
    assert (october.currency, october.usdt_rate, october.total_usdt, october.total) == (
        "BRL",
        D("5.4321"),
        D("150.00"),
        D("814.82"),
    )


@pytest.mark.django_db
def test_closing_a_period_twice_gives_the_same_invoice(books_for):
    """The second close of a month returns the first's invoice and takes no number."""
    subscription = SubscriptionFactory()
    october_and_november(books_for(subscription.tenant))

    first = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)
    second = period_close(
        tenant_id=subscription.tenant_id, period_start=date(2026, 10, 17), issued_on=NOV
    )

    assert first is not None and second is not None and first.pk == second.pk
    assert Invoice.objects.count() == 1
    assert second.number == 1


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_closes_give_one_invoice_per_tenant_and_gap_free_numbers(books_for):
    """Eight threads, each on its own database connection, close the same month for five
    tenants in shuffled orders at once: five invoices, numbered 1 to 5."""
    tenants = []
    for _ in range(5):
        subscription = SubscriptionFactory()
        october_and_november(books_for(subscription.tenant))
        tenants.append(subscription.tenant_id)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def closer(seed: int) -> None:
        order = random.Random(seed).sample(tenants, len(tenants))
        try:
            start.wait()
            for tenant_id in order:
                period_close(tenant_id=tenant_id, period_start=OCT, issued_on=NOV)
        except BaseException as exc:  # reported below, with the test's failure
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=closer, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    invoices = Invoice.objects.filter(period_start=OCT)
    assert sorted(invoices.values_list("tenant_id", flat=True)) == sorted(tenants)
    assert sorted(invoices.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert InvoiceLine.objects.count() == 10


@pytest.mark.django_db
def test_a_plan_change_takes_effect_at_the_next_period(books_for):
    """Moving to Premium on 20 October bills October on Standard (15 %) and November on
    Premium (10 %, 100 a month)."""
    subscription = SubscriptionFactory()
    october_and_november(books_for(subscription.tenant))

    subscription_change(
        tenant=subscription.tenant, plan=Plan.objects.get(slug="premium"), today=date(2026, 10, 20)
    )
    october = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)
    november = period_close(tenant_id=subscription.tenant_id, period_start=NOV, issued_on=DEC)

    assert october is not None and november is not None
    assert list(
        Subscription.objects.filter(tenant=subscription.tenant).values_list(
            "plan__slug", "starts_on", "ends_on"
        )
    ) == [("premium", NOV, None), ("standard", OCT, NOV)]
    assert october.performance_rate == D("0.15")
    assert lines(november) == [("fixed_fee", D("100.00")), ("performance_fee", D("30.00"))]


@pytest.mark.django_db
def test_a_mid_month_start_bills_from_the_start_day(books_for):
    """Started on 21 October with the free month off: 11 of 31 days of 75 = 26.61, and the HWM
    starts from the equity on the start day (12,500), so the gain before it is not billed."""
    BillingSettings.objects.filter(pk=1).update(first_month_free=False)
    subscription = SubscriptionFactory(starts_on=date(2026, 10, 21))
    october_and_november(books_for(subscription.tenant))

    october = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)

    assert october is not None
    assert (october.hwm_start, october.gain) == (D(12500), D(500))
    assert lines(october) == [("fixed_fee", D("26.61")), ("performance_fee", D("75.00"))]


@pytest.mark.django_db
def test_a_tenant_without_a_subscription_is_not_billed(books_for):
    """No subscription covers the month: nothing is invoiced."""
    tenant = TenantFactory()
    october_and_november(books_for(tenant))

    assert period_close(tenant_id=tenant.pk, period_start=OCT) is None
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_a_correction_is_a_credit_note_with_its_own_numbers(books_for):
    """Crediting 50 of October's 150 leaves the invoice as issued and adds CN-2026-000001 of
    -50.00; more than what is left is refused."""
    subscription = SubscriptionFactory()
    october_and_november(books_for(subscription.tenant))
    october = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)
    assert october is not None

    note = credit_note_create(
        invoice=october, amount_usdt=D(50), reason="goodwill", on=date(2026, 11, 3)
    )

    october.refresh_from_db()
    assert (october.total, october.state, october.number) == (D("150.00"), "issued", 1)
    assert (note.display_number, note.total, note.corrects_id) == (
        "CN-2026-000001",
        D("-50.00"),
        october.pk,
    )
    with pytest.raises(InvoiceRefused):
        credit_note_create(
            invoice=october, amount_usdt=D("100.01"), reason="too much", on=date(2026, 11, 3)
        )


@pytest.mark.django_db
def test_an_invoice_moves_only_forward(books_for):
    """Issued -> overdue -> paid; a paid invoice cannot be voided."""
    subscription = SubscriptionFactory()
    october_and_november(books_for(subscription.tenant))
    october = period_close(tenant_id=subscription.tenant_id, period_start=OCT, issued_on=NOV)
    assert october is not None

    invoice_move(invoice=october, to=Invoice.State.OVERDUE)
    invoice_move(invoice=october, to=Invoice.State.PAID)

    with pytest.raises(InvoiceRefused):
        invoice_move(invoice=october, to=Invoice.State.VOID)
    assert Invoice.objects.get(pk=october.pk).state == "paid"


def test_the_close_on_the_first_bills_the_month_before():
    """A close on 1 January bills December; on 15 March, February."""
    assert previous_period_start(date(2027, 1, 1)) == date(2026, 12, 1)
    assert previous_period_start(date(2027, 3, 15)) == date(2027, 2, 1)
