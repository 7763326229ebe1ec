"""An order whose request never reached the exchange ends: alerted after Bybit's 24 h look-up
window, marked never placed by an operator through admin (audited), and never sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from bots.models import Alert, Bot, OrderIntent, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.reconcile import reconcile_connection
from bots.services.ticks import tick_run, ticks_dispatch
from bots.services.tuning import bot_create
from exchange.gateway import ExchangeGateway
from exchange.instruments import instruments_forget
from exchange.services.candles import candles_sync
from exchange.services.keys import exchange_key_connect
from tests.factories import TEST_PASSWORD, client_with_2fa, operator_with_otp, totp_now

pytestmark = pytest.mark.django_db(transaction=True)  # ticks enqueue on commit


@pytest.fixture
def sim(simulator, settings):
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 200
    instruments_forget()
    yield simulator
    instruments_forget()


def operator_client() -> Client:
    operator, secret = operator_with_otp()
    client = Client()
    client.post(
        "/admin/login/?next=/admin/",
        {"username": operator.email, "password": TEST_PASSWORD, "otp_token": totp_now(secret),
         "next": "/admin/"},
    )  # fmt: skip
    return client


def test_an_order_that_never_reached_the_exchange_ends_in_an_alert_and_is_marked_never_placed(sim):
    """502 without processing: UNKNOWN; asked about until the window ends, then one alert and no
    more questions; the operator marks it never placed in admin; nothing is ever sent twice."""
    owner = client_with_2fa()
    uid, key, secret = sim.create_account(usdt="10000")
    connection = exchange_key_connect(
        tenant=owner.tenant, environment="simulator", api_key=key, api_secret=secret, by=owner.user
    )
    bot = bot_create(
        tenant=owner.tenant, template=RiskTemplate.objects.get(slug="moderate"), name="bot",
        symbol="BTCUSDT", connection=connection, by=owner.user, mode=Bot.Mode.LIVE,
    ).bot  # fmt: skip
    bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
    sim.fault("http_5xx", uid=uid, path="/v5/order/create", status=502, count=1)
    candles_sync()
    for bot_id, start in ticks_dispatch():
        tick_run(bot_id=bot_id, candle_start=start)
    (intent,) = OrderIntent.objects.filter(bot=bot)
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

    response = operator_client().post(
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


def test_an_intent_inside_the_window_cannot_be_marked_never_placed(sim):
    """Before the window ends the exchange may still answer: the admin action refuses."""
    owner = client_with_2fa()
    uid, key, secret = sim.create_account(usdt="10000")
    connection = exchange_key_connect(
        tenant=owner.tenant, environment="simulator", api_key=key, api_secret=secret, by=owner.user
    )
    bot = bot_create(
        tenant=owner.tenant, template=RiskTemplate.objects.get(slug="moderate"), name="bot",
        symbol="BTCUSDT", connection=connection, by=owner.user, mode=Bot.Mode.LIVE,
    ).bot  # fmt: skip
    bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
    sim.fault("http_5xx", uid=uid, path="/v5/order/create", status=502, count=1)
    candles_sync()
    for bot_id, start in ticks_dispatch():
        tick_run(bot_id=bot_id, candle_start=start)
    (intent,) = OrderIntent.objects.filter(bot=bot)

    operator_client().post(
        "/admin/bots/orderintent/",
        {"action": "mark_never_placed", "_selected_action": [str(intent.pk)]},
    )

    intent.refresh_from_db()
    assert intent.state == OrderIntent.State.UNKNOWN
    assert not AuditEvent.objects.filter(action="intent.never_placed").exists()
