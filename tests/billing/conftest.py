"""Billing's fixtures: the seeded plans after a transactional flush, and books written by hand."""

from __future__ import annotations

import importlib
from datetime import datetime
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def plans(request):
    """The seeded plans and settings, even after a transactional test flushed them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames  # e.g. through celery_worker
    if marker is None and not transactional:
        return
    if transactional or (marker is not None and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    from django.apps import apps

    importlib.import_module("billing.migrations.0002_seed_plans").seed(apps, None)


class Books:
    """Writes an account's wallet readings and flows as the snapshot task and the flow sync do."""

    def __init__(self, account):
        self.account = account
        self._flows = 0

    def snapshot(self, at: datetime, equity: str) -> None:
        from bots.models import EquitySnapshot

        EquitySnapshot.objects.create(
            tenant_id=self.account.tenant_id, account=self.account, at=at, equity=Decimal(equity)
        )

    def flow(self, at: datetime, amount: str) -> None:
        """A signed flow recorded at ``at`` (our clock; the exchange booked it a minute before)."""
        from datetime import timedelta

        from bots.models import CapitalFlow

        self._flows += 1
        value = Decimal(amount)
        flow = CapitalFlow.objects.create(
            tenant_id=self.account.tenant_id,
            account=self.account,
            exchange_id=f"flow-{self._flows}",
            kind=CapitalFlow.Kind.DEPOSIT if value > 0 else CapitalFlow.Kind.WITHDRAWAL,
            amount=abs(value),
            at=at - timedelta(minutes=1),
        )
        CapitalFlow.objects.filter(pk=flow.pk).update(recorded_at=at)


@pytest.fixture
def books_for():
    """``books_for(tenant)``: a new exchange account of the tenant, and a writer for its books."""
    from tests.factories import ExchangeAccountFactory

    def make(tenant) -> Books:
        return Books(ExchangeAccountFactory(tenant=tenant))

    return make
