"""How the close runs: on beat each month through a real worker, and again from the admin."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from celery.schedules import crontab
from django.conf import settings

from billing.models import Invoice
from billing.tasks import close_periods
from tests.factories import TEST_PASSWORD, SubscriptionFactory, operator_with_otp, totp_now
from tests.fixtures.celery_worker import wait_for
from tradingsvc.celery import app

LAST_MONTH = date(2026, 11, 1)  # the tests run on 2026-12-03: the close bills November


def test_the_close_is_on_beat_early_on_the_first_of_each_month():
    """Beat sends ``billing.close_periods`` at 00:30 UTC on the 1st; the task is registered."""
    entry = settings.CELERY_BEAT_SCHEDULE["billing-close-periods"]

    assert entry["task"] == "billing.close_periods" and entry["task"] in app.tasks
    assert isinstance(entry["schedule"], crontab)
    assert (entry["schedule"].day_of_month, entry["schedule"].hour, entry["schedule"].minute) == (
        {1},
        {0},
        {30},
    )


def test_the_monthly_task_closes_last_month_for_every_subscribed_tenant_in_a_worker(
    celery_worker, books_for
):
    """Sent through Redis, the fan-out closes last month once per subscribed tenant; sent again,
    it finds nothing left to close."""
    subscribed = [SubscriptionFactory(), SubscriptionFactory()]
    for subscription in subscribed:
        books_for(subscription.tenant).snapshot(datetime(2026, 10, 31, 23, 55, tzinfo=UTC), "1000")

    close_periods.delay()

    wait_for(
        lambda: Invoice.objects.filter(period_start=LAST_MONTH).count() == 2,
        timeout=30,
        message="two invoices",
    )
    assert close_periods.apply().get() == 0
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_the_operator_re_runs_last_months_close_for_one_tenant_from_the_admin(client):
    """The subscription list's action closes last month for the chosen tenant only; run twice,
    it still leaves one invoice."""
    chosen, other = SubscriptionFactory(), SubscriptionFactory()
    staff, secret = operator_with_otp()
    client.post(
        "/admin/login/?next=/admin/",
        {
            "username": staff.email,
            "password": TEST_PASSWORD,
            "otp_token": totp_now(secret),
            "next": "/admin/",
        },
    )

    for _ in range(2):
        response = client.post(
            "/admin/billing/subscription/",
            {"action": "close_last_month", "_selected_action": [chosen.pk]},
        )
        assert response.status_code == 302, response.content[:300]

    assert list(Invoice.objects.values_list("tenant_id", "period_start")) == [
        (chosen.tenant_id, LAST_MONTH)
    ]
    assert not Invoice.objects.filter(tenant=other.tenant).exists()
