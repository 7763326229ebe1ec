"""The operator's kill switch, engaged and released from admin through the protection service.

Driven through the real admin (staff signed in with admin two-factor) against the simulator:
every tenant's open orders are cancelled and positions closed on the exchange, the step is
audited, pushed to the clients' live pages and shown there, retried where the exchange failed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from accounts.models import AuditEvent
from bots.models import Bot, BotTick, KillSwitch, OrderIntent, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.ticks import tick_run, ticks_dispatch
from bots.services.tuning import bot_create
from bots.tasks import enforce_kill_switch
from exchange.gateway import ExchangeGateway
from exchange.instruments import instruments_forget
from exchange.services.candles import candles_sync
from exchange.services.keys import exchange_key_connect
from exchange.types import OrderRequest
from ops.live import tenant_group
from tests.factories import (
    TEST_PASSWORD,
    client_with_2fa,
    login_with_2fa,
    operator_with_otp,
    totp_now,
)

pytestmark = pytest.mark.django_db(transaction=True)  # ticks enqueue on commit
HALTED = "Trading is halted by our operators"


@pytest.fixture
def sim(simulator, settings):
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 200
    instruments_forget()
    yield simulator
    instruments_forget()


@pytest.fixture
def operator():
    user, secret = operator_with_otp()
    client = Client()
    client.post(
        "/admin/login/?next=/admin/",
        {"username": user.email, "password": TEST_PASSWORD, "otp_token": totp_now(secret),
         "next": "/admin/"},
    )  # fmt: skip
    return user, client


def trading_client(sim):
    """A client with a live bot holding a position and a resting order on its own account."""
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
    return owner, uid, connection, bot


def run_due_ticks() -> list[BotTick]:
    candles_sync()
    return [tick_run(bot_id=bot_id, candle_start=start) for bot_id, start in ticks_dispatch()]


def rest_an_order(connection, link: str) -> None:
    ExchangeGateway.for_connection(connection).place_order(
        OrderRequest(
            symbol="BTCUSDT", side="Buy", order_type="Limit", qty=Decimal("0.001"),
            price=Decimal("10000"), order_link_id=link,
        )
    )  # fmt: skip


def resting(connection) -> list[str]:
    gateway = ExchangeGateway.for_connection(connection)
    return [o.order_link_id for o in gateway.open_orders() if o.order_link_id.startswith("ts-")]


def held(connection) -> Decimal:
    positions = ExchangeGateway.for_connection(connection).positions("BTCUSDT")
    return sum((p.size for p in positions), Decimal(0))


def test_the_global_switch_from_admin_cancels_flattens_audits_and_shows_on_clients_pages(
    sim, operator
):
    """Every tenant: orders cancelled, positions closed on the exchange; audited; pushed; shown;
    a tenant whose exchange failed is retried until done; released from admin."""
    staff, admin_client = operator
    clients = [trading_client(sim) for _ in range(2)]
    assert all(t.status == BotTick.Status.DONE for t in run_due_ticks())
    sim.advance(minutes=1)  # the bots' market orders fill: two positions
    for n, (_owner, _uid, connection, _bot) in enumerate(clients):
        rest_an_order(connection, f"ts-test-{n}")
        assert held(connection) > 0 and resting(connection)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(tenant_group(clients[0][0].tenant_id), channel)
    _owner_b, uid_b, _c, _b = clients[1]
    sim.fault("http_5xx", uid=uid_b, path="/v5/order/cancel-all", status=502, count=1)

    response = admin_client.post(
        "/admin/bots/killswitch/add/",
        {"scope": "global", "flatten": "on", "reason": "Exchange incident"},
    )
    switch = KillSwitch.objects.get()
    first_pass = dict(switch.progress)
    enforce_kill_switch(switch.pk)  # the retry the failed pass queued
    sim.advance(minutes=1)  # the reduce-only closes fill
    pushed = async_to_sync(layer.receive)(channel)

    assert response.status_code == 302
    assert switch.scope == "global" and switch.by_operator and switch.engaged_by == staff
    assert first_pass["failed"] == 1 and switch.enforced_at is None
    switch.refresh_from_db()
    assert switch.enforced_at is not None and switch.progress["failed"] == 0
    for _owner, _uid, connection, bot in clients:
        assert resting(connection) == []
        assert held(connection) == 0
        assert OrderIntent.objects.filter(bot=bot, reduce_only=True).count() == 1  # closed once
    event = AuditEvent.objects.get(action="kill_switch.engaged_global")
    assert event.actor == staff and event.is_staff_action
    assert pushed["payload"]["kind"] == "kill_switch"
    owner_a = clients[0][0]
    page = Client()
    login_with_2fa(page, owner_a)
    assert HALTED in page.get("/app/").content.decode()
    assert HALTED in page.get("/app/history/").content.decode()
    # The client's emergency-stop release does not lift the operator's switch.
    page.post("/app/emergency-stop/release/")
    assert KillSwitch.objects.get().active

    sim.advance(minutes=15)
    assert all(not OrderIntent.objects.filter(tick=t).exists() for t in run_due_ticks())

    released = admin_client.post(
        "/admin/bots/killswitch/", {"action": "release", "_selected_action": [str(switch.pk)]}
    )

    assert released.status_code == 302
    assert not KillSwitch.objects.get().active
    assert AuditEvent.objects.filter(action="kill_switch.released_global").exists()
    assert HALTED not in page.get("/app/").content.decode()


def test_a_kill_switch_row_cannot_be_edited_in_admin(sim, operator):
    """The raw model is read-only: only the service engages and releases switches."""
    _staff, admin_client = operator
    owner, _uid, _connection, _bot = trading_client(sim)
    admin_client.post(
        "/admin/bots/killswitch/add/",
        {"scope": "tenant", "tenant": str(owner.tenant_id), "reason": "Chargeback"},
    )
    switch = KillSwitch.objects.get()

    edit = admin_client.post(
        f"/admin/bots/killswitch/{switch.pk}/change/", {"scope": "tenant", "active": ""}
    )

    switch.refresh_from_db()
    assert switch.active and switch.by_operator
    assert edit.status_code in (302, 403)
    assert AuditEvent.objects.filter(action="kill_switch.engaged_tenant").count() == 1
