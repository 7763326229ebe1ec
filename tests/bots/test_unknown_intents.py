"""An order whose request never reached the exchange ends: alerted after Bybit's 24 h look-up
window, marked never placed by an operator through admin (audited), and never sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from bots.models import Alert, Bot, OrderIntent
from bots.services.reconcile import reconcile_connection
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeConnection
from tests.factories import connect_live, running_bot
from tests.fixtures.engine import run_due_ticks

pytestmark = pytest.mark.django_db(transaction=True)  # ticks enqueue on commit


def lost_order(sim, owner) -> tuple[ExchangeConnection, OrderIntent]:
    """A live bot's first order, whose request the exchange answered 502 without processing."""
    uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    sim.fault("http_5xx", uid=uid, path="/v5/order/create", status=502, count=1)
    run_due_ticks()
    (intent,) = OrderIntent.objects.filter(bot=bot)
    return connection, intent


def test_an_order_that_never_reached_the_exchange_ends_in_an_alert_and_is_marked_never_placed(
    sim, owner, operator_client
):
    """502 without processing: UNKNOWN; asked about until the window ends, then one alert and no
    more questions; the operator marks it never placed in admin; nothing is ever sent twice."""
    connection, intent = lost_order(sim, owner)
    assert intent.state == OrderIntent.State.UNKNOWN

    within = reconcile_connection(connection=connection)  # inside the window: asked, no alert
    OrderIntent.objects.filter(pk=intent.pk).update(sent_at=timezone.now() - timedelta(hours=25))
    past = reconcile_connection(connection=connection)
    checks_after_giving_up = OrderIntent.objects.get(pk=intent.pk).checks
    later = reconcile_connection(connection=connection)

    assert "order.unknown_expired" not in within.alerts
    assert past.alerts.count("order.unknown_expired") == 1
    assert "order.unknown_expired" not in later.alerts
    assert OrderIntent.objects.get(pk=intent.pk).checks == checks_after_giving_up  # no more asking
    (alert,) = Alert.objects.filter(kind="order.unknown_expired")
    assert alert.notify_operator and alert.params["link"] == intent.order_link_id

    response = operator_client.post(
        "/admin/bots/orderintent/",
        {"action": "mark_never_placed", "_selected_action": [str(intent.pk)]},
    )

    assert response.status_code == 302
    intent.refresh_from_db()
    assert intent.state == OrderIntent.State.NEVER_PLACED
    event = AuditEvent.objects.get(action="intent.never_placed")
    assert event.is_staff_action and event.target_id == str(intent.pk)
    gateway = ExchangeGateway.for_connection(connection)
    assert gateway.get_order("BTCUSDT", order_link_id=intent.order_link_id) is None
    filled = [e.order_link_id for e in gateway.executions(symbol="BTCUSDT").items]
    assert filled == []  # nothing was ever placed: not the lost send, not a resend


def test_an_intent_inside_the_window_cannot_be_marked_never_placed(sim, owner, operator_client):
    """Before the window ends the exchange may still answer: the admin action refuses."""
    _connection, intent = lost_order(sim, owner)

    operator_client.post(
        "/admin/bots/orderintent/",
        {"action": "mark_never_placed", "_selected_action": [str(intent.pk)]},
    )

    intent.refresh_from_db()
    assert intent.state == OrderIntent.State.UNKNOWN
    assert not AuditEvent.objects.filter(action="intent.never_placed").exists()
