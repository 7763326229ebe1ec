"""Reconciliation brings local state to the exchange's and reports what the service did not do."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Alert, Bot, BotFill, BotPosition, CapitalFlow, OrderIntent
from bots.services.reconcile import reconcile_connection
from exchange.gateway import ExchangeGateway
from exchange.models import Execution
from exchange.types import OrderRequest
from tests.bots.test_protection import sim  # noqa: F401 - the simulator wired into settings
from tests.bots.test_ticks import connect_live, run_due_ticks, running_bot
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconcile_applies_missed_fills_and_matches_the_exchange(sim):  # noqa: F811
    owner = client_with_2fa()
    _uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    run_due_ticks()
    sim.advance(minutes=1)  # filled on the exchange; the stream is not running, so nothing arrived
    assert not Execution.objects.exists() and not BotFill.objects.exists()

    report = reconcile_connection(connection=connection)
    assert report.executions_fetched >= 1
    gateway = ExchangeGateway.for_connection(connection)
    (position,) = [p for p in gateway.positions("BTCUSDT") if p.size]
    signed = position.size if position.side == "Buy" else -position.size
    local = BotPosition.objects.get(bot=bot)
    assert (local.qty, local.avg_price) == (signed, position.avg_price)
    assert BotFill.objects.filter(bot=bot).count() == report.executions_fetched
    assert report.capital_flows == 1  # the 10,000 USDT deposit is capital, not profit
    assert CapitalFlow.objects.get().amount == Decimal("10000")

    again = reconcile_connection(connection=connection)  # idempotent
    assert again.positions_corrected == 0 and again.capital_flows == 0
    assert BotFill.objects.filter(bot=bot).count() == report.executions_fetched


def test_reconcile_corrects_a_drifted_position_and_flags_foreign_orders(sim):  # noqa: F811
    owner = client_with_2fa()
    _uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    run_due_ticks()
    sim.advance(minutes=1)
    reconcile_connection(connection=connection)

    # Someone trades by hand on the account: an extra order the service never placed.
    gateway = ExchangeGateway.for_connection(connection)
    gateway.place_order(
        OrderRequest(
            symbol="BTCUSDT",
            side="Buy",
            order_type="Limit",
            qty=Decimal("0.01"),
            price=Decimal("1000"),
            order_link_id="manual-1",
        )
    )
    BotPosition.objects.filter(bot=bot).update(qty=Decimal("9"))  # and our record drifted

    report = reconcile_connection(connection=connection)
    assert report.positions_corrected == 1
    assert set(report.alerts) >= {"position.corrected", "order.foreign"}
    assert Alert.objects.filter(kind="order.foreign", tenant=owner.tenant).count() == 1
    reconcile_connection(connection=connection)
    assert (
        Alert.objects.filter(kind="order.foreign").count() == 1
    )  # one open alert, not one per run


def test_unknown_intents_are_resolved_by_reconciliation(sim, settings):  # noqa: F811
    owner = client_with_2fa()
    uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    sim.fault("drop_reply", uid=uid, path="/v5/order/create", ms=1500, count=1)
    settings.EXCHANGE_HTTP_TIMEOUT_SECONDS = 1.0
    run_due_ticks()
    assert OrderIntent.objects.get(bot=bot).state == OrderIntent.State.UNKNOWN
    report = reconcile_connection(connection=connection)
    assert report.resolved_intents == 1
    assert OrderIntent.objects.get(bot=bot).state != OrderIntent.State.UNKNOWN
