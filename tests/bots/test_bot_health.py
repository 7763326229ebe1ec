"""Bots that cannot trade stop with one alert, and a tenant that no longer trades gets no tick.

Against the simulator (stepped clock): keys revoked or given the Withdraw permission on it, margin
it refuses, orders it holds; alerts delivered by the delivery task into Django's outbox.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from accounts.services.tenants import tenant_disable, tenant_suspend
from bots.models import Alert, Bot, BotPosition, BotTick, OrderIntent, RiskTemplate
from bots.services.lifecycle import TransitionRefused, bot_transition
from bots.services.reconcile import reconcile_connection
from bots.services.ticks import tick_run, ticks_dispatch
from bots.services.tuning import bot_create
from bots.tasks import deliver_alert, snapshot_equity, tenant_halt
from exchange.gateway import ExchangeGateway
from exchange.instruments import instruments_forget
from exchange.services.candles import candles_sync
from exchange.services.keys import exchange_key_connect, exchange_key_retire
from exchange.types import OrderRequest
from tests.factories import StaffUserFactory, client_with_2fa, login_with_2fa

pytestmark = pytest.mark.django_db(transaction=True)  # ticks enqueue on commit


@pytest.fixture
def sim(simulator, settings):
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 200
    instruments_forget()
    yield simulator
    instruments_forget()


@pytest.fixture
def owner():
    return client_with_2fa()


@pytest.fixture
def staff():
    return StaffUserFactory(email="ops@example.test")


def connect(sim, owner, usdt="10000"):
    uid, key, secret = sim.create_account(usdt=usdt)
    connection = exchange_key_connect(
        tenant=owner.tenant, environment="simulator", api_key=key, api_secret=secret, by=owner.user
    )
    return uid, key, connection


def live_bot(owner, connection, name="bot") -> Bot:
    template = RiskTemplate.objects.get(slug="moderate")
    bot = bot_create(
        tenant=owner.tenant, template=template, name=name, symbol="BTCUSDT", connection=connection,
        by=owner.user, mode=Bot.Mode.LIVE,
    ).bot  # fmt: skip
    return bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)


def run_due_ticks() -> list[BotTick]:
    """What beat and the workers do: sync candles once, dispatch, run each due tick."""
    candles_sync()
    return [tick_run(bot_id=bot_id, candle_start=start) for bot_id, start in ticks_dispatch()]


def deliver_all() -> None:
    """What the worker does with each alert's delivery task."""
    for alert in Alert.objects.all():
        deliver_alert(alert.pk)


def resting_order(connection, link: str) -> None:
    """One of the bot's limit orders, far below the market: it rests on the book."""
    ExchangeGateway.for_connection(connection).place_order(
        OrderRequest(
            symbol="BTCUSDT", side="Buy", order_type="Limit", qty=Decimal("0.001"),
            price=Decimal("10000"), order_link_id=link,
        )
    )  # fmt: skip


def resting(connection) -> list[str]:
    """The bot's resting orders on the exchange (the position's own TP/SL stay, by design)."""
    gateway = ExchangeGateway.for_connection(connection)
    return [o.order_link_id for o in gateway.open_orders() if o.order_link_id.startswith("ts-")]


def test_a_disabled_tenant_gets_no_tick_its_orders_are_cancelled_and_its_books_reconcile(
    sim, owner, staff
):
    """Disabled: the tick already dispatched does nothing, no later tick comes, orders on the book
    are cancelled, and reconciliation still brings the live position to the exchange's."""
    _uid, _key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    (first,) = run_due_ticks()
    assert first.status == BotTick.Status.DONE, first.error
    sim.advance(minutes=1)  # the market order fills: a live position
    reconcile_connection(connection=connection)
    resting_order(connection, "ts-test-resting-1")
    sim.advance(minutes=15)
    candles_sync()
    ((bot_id, candle_start),) = ticks_dispatch()  # due before the operator acts

    tenant_disable(tenant=owner.tenant, by=staff)
    tick = tick_run(bot_id=bot_id, candle_start=candle_start)
    sim.advance(minutes=15)
    later = run_due_ticks()
    tenant_halt(str(owner.tenant_id))  # the task tenant_disable sends by name

    assert tick.status == BotTick.Status.SKIPPED
    assert OrderIntent.objects.filter(bot=bot).count() == 1  # only the first tick's order
    assert later == []
    assert resting(connection) == []
    # An order that appears meanwhile is cancelled by the next reconciliation, which keeps the
    # books: the position is the exchange's, to the unit.
    resting_order(connection, "ts-test-resting-2")
    BotPosition.objects.filter(bot=bot).update(qty=Decimal(0))  # drifted
    report = reconcile_connection(connection=connection)
    assert report.orders_halted == 1 and resting(connection) == []
    (held,) = [p for p in ExchangeGateway.for_connection(connection).positions("BTCUSDT") if p.size]
    signed = held.size if held.side == "Buy" else -held.size
    assert BotPosition.objects.get(bot=bot).qty == signed
    assert OrderIntent.objects.filter(bot=bot).count() == 1  # nothing traded


def test_a_suspended_tenant_signs_in_and_sees_its_pages_but_does_not_trade(sim, owner, staff):
    """Suspended (billing): the client signs in and sees the dashboard; no tick, no bot start."""
    _uid, _key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    candles_sync()
    ((bot_id, candle_start),) = ticks_dispatch()  # due before billing suspends the account
    tenant_suspend(tenant=owner.tenant, by=staff)

    skipped = tick_run(bot_id=bot_id, candle_start=candle_start)
    sim.advance(minutes=15)
    ticks = run_due_ticks()
    bot_transition(bot=bot, to=Bot.State.PAUSED, by=owner.user)
    with pytest.raises(TransitionRefused):
        bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
    from django.test import Client

    client = Client()
    login_with_2fa(client, owner)
    page = client.get("/app/")
    activity = client.get("/app/activity/").content.decode()

    assert skipped.status == BotTick.Status.SKIPPED
    assert not OrderIntent.objects.filter(bot=bot).exists()
    assert ticks == []
    assert page.status_code == 200 and bot.name in page.content.decode()
    assert "the account is suspended, so its bots do not trade" in activity


def test_a_disabled_tenant_cannot_sign_in_to_its_pages(owner, staff):
    """Disabled: the member's session reaches no client account (no dashboard)."""
    from django.test import Client

    client = Client()
    login_with_2fa(client, owner)
    before = client.get("/app/")
    tenant_disable(tenant=owner.tenant, by=staff)
    after = client.get("/app/")

    assert before.status_code == 200
    assert after.status_code == 404


def test_a_key_revoked_on_the_exchange_stops_its_bot_with_one_alert_within_one_candle(
    sim, owner, staff
):
    """Revoked on Bybit: the next tick's order is refused, the key is checked, the bot goes to
    error and one alert reaches the client and the staff; the candle after, no tick."""
    _uid, key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    run_due_ticks()
    sim.admin("DELETE", f"/sim/keys/{key}")
    sim.advance(minutes=15)

    run_due_ticks()
    deliver_all()
    sim.advance(minutes=15)
    later = run_due_ticks()

    bot.refresh_from_db()
    connection.refresh_from_db()
    assert bot.state == Bot.State.ERROR
    assert connection.status == connection.Status.INVALID
    (alert,) = Alert.objects.filter(tenant=owner.tenant)
    assert alert.kind == "key.invalid" and alert.params["bots"] == "1"
    assert [m.to for m in mail.outbox if "operator" in m.subject] == [[staff.email]]
    assert [m.to for m in mail.outbox if "operator" not in m.subject] == [[owner.user.email]]
    assert later == []


def test_withdraw_permission_turned_on_later_stops_the_bot_at_the_daily_check(sim, owner, staff):
    """The daily check finds Withdraw on the key: its bot goes to error at once, one alert."""
    from exchange.tasks import validate_exchange_key

    _uid, key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    sim.admin("POST", f"/sim/keys/{key}", {"withdraw": True})

    validate_exchange_key(connection.pk)
    validate_exchange_key(connection.pk)  # the next day: still one alert
    sim.advance(minutes=15)
    ticks = run_due_ticks()

    bot.refresh_from_db()
    assert bot.state == Bot.State.ERROR and "Withdraw" in bot.state_reason
    assert Alert.objects.filter(tenant=owner.tenant).count() == 1
    assert ticks == []


def test_repeated_insufficient_margin_puts_the_bot_in_error_with_one_alert(sim, owner, settings):
    """Every order refused for margin, candle after candle: at the limit the bot goes to error,
    with one alert saying to deposit or lower the risk."""
    settings.BOT_ERROR_AFTER_FAILED_TICKS = 2
    uid, _key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    snapshot_equity()  # 10,000 USDT recorded: the sizing equity until the next snapshot
    sim.admin("POST", f"/sim/accounts/{uid}/withdraw", {"amount": "9995"})

    outcomes = []
    for _ in range(4):
        for tick in run_due_ticks():
            outcomes.append([i.error_code for i in OrderIntent.objects.filter(tick=tick)])
        sim.advance(minutes=15)

    bot.refresh_from_db()
    assert outcomes == [["InsufficientBalanceError"], ["InsufficientBalanceError"]]
    assert bot.state == Bot.State.ERROR
    (alert,) = Alert.objects.filter(tenant=owner.tenant)
    assert alert.kind == "bot.error.margin" and alert.notify_operator


def test_a_retired_key_puts_its_bot_in_error_once_instead_of_failing_every_candle(sim, owner):
    """A bot left on a deleted key: one failed tick, then the error state and one alert."""
    _uid, _key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    exchange_key_retire(connection=connection, by=owner.user)

    first = run_due_ticks()
    sim.advance(minutes=15)
    later = run_due_ticks()

    bot.refresh_from_db()
    assert [t.status for t in first] == [BotTick.Status.FAILED]
    assert bot.state == Bot.State.ERROR
    (alert,) = Alert.objects.filter(tenant=owner.tenant)
    assert alert.kind == "bot.error.key" and alert.params["key"] == connection.api_key_last4
    assert later == []


def test_ticks_failing_again_and_again_put_the_bot_in_error_with_one_alert(sim, owner, settings):
    """Three failed ticks in a row (the key's sealed secret cannot be opened: a fault of ours, not
    the exchange's verdict): error, one alert, for the staff too; the bot is then not ticked."""
    from exchange.models import ExchangeConnection

    _uid, _key, connection = connect(sim, owner)
    bot = live_bot(owner, connection)
    ExchangeConnection.objects.filter(pk=connection.pk).update(api_secret_sealed="damaged")
    statuses = []
    for _ in range(4):
        statuses += [t.status for t in run_due_ticks()]
        sim.advance(minutes=15)

    bot.refresh_from_db()
    assert statuses == [BotTick.Status.FAILED] * 3  # the fourth candle: in error, not ticked
    assert bot.state == Bot.State.ERROR
    (alert,) = Alert.objects.filter(tenant=owner.tenant)
    assert alert.kind == "bot.error.failed_ticks" and alert.params["count"] == "3"


def test_an_erased_tenant_has_its_orders_cancelled_before_its_keys_are_erased(sim, owner, staff):
    """Erasure cancels the open orders while the key still exists, then no tick comes."""
    from accounts.services.data_rights import tenant_erase

    uid, _key, connection = connect(sim, owner)
    live_bot(owner, connection)
    resting_order(connection, "ts-test-erase-1")
    assert sim.admin("GET", f"/sim/accounts/{uid}")["open_orders"] == 1

    tenant_erase(tenant=owner.tenant, by=staff)
    sim.advance(minutes=15)
    later = run_due_ticks()

    connection.refresh_from_db()
    assert connection.status == connection.Status.RETIRED
    orders = sim.admin("GET", f"/sim/accounts/{uid}")["open_orders"]
    assert orders == 0
    assert later == []
