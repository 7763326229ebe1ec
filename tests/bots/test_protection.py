"""Kill switches at three levels and the circuit breaker, against the simulator."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.models import Alert, Bot, BotPosition, BotTick, EquitySnapshot, KillSwitch, OrderIntent
from bots.services.protection import kill_switch_engage, kill_switch_release
from exchange.gateway import ExchangeGateway
from tests.bots.test_ticks import connect_live, run_due_ticks, running_bot
from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim(simulator, settings):
    from exchange.instruments import instruments_forget

    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_CANDLE_BACKFILL = 200
    instruments_forget()
    yield simulator
    instruments_forget()


def test_tenant_kill_switch_flattens_on_the_exchange_and_blocks_new_orders(sim):
    owner = client_with_2fa()
    _, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    run_due_ticks()
    sim.advance(minutes=1)
    gateway = ExchangeGateway.for_connection(connection)
    assert any(p.size != 0 for p in gateway.positions("BTCUSDT")), (
        "the first tick should have opened a position"
    )

    switch = kill_switch_engage(
        scope=KillSwitch.Scope.TENANT, tenant=owner.tenant, by=owner.user, flatten=True
    )
    sim.advance(minutes=1)
    assert all(p.size == 0 for p in gateway.positions("BTCUSDT")), (
        "flatten closes the position reduce-only"
    )
    close = OrderIntent.objects.get(order_link_id=f"ks{switch.pk:x}-{bot.pk:x}")
    assert close.reduce_only is True

    # Enforcing again never doubles the close.
    from bots.services.protection import kill_switch_enforce

    kill_switch_enforce(switch=switch)
    assert OrderIntent.objects.filter(order_link_id__startswith=f"ks{switch.pk:x}-").count() == 1

    # The next candle: the bot decides but sends nothing while the switch is on.
    sim.advance(minutes=15)
    (tick,) = run_due_ticks()
    assert "Kill switch on (tenant)" in tick.reasons
    assert not OrderIntent.objects.filter(tick=tick).exists()

    kill_switch_release(switch=switch, by=owner.user)
    sim.advance(minutes=15)
    (tick,) = run_due_ticks()
    assert "Kill switch" not in tick.reasons


def test_global_and_bot_switches_reach_exactly_their_scope(sim):
    alice, bob = client_with_2fa(), client_with_2fa()
    a1 = running_bot(alice, mode=Bot.Mode.DRY_RUN, name="a1")
    a2 = running_bot(alice, mode=Bot.Mode.DRY_RUN, name="a2")
    b1 = running_bot(bob, mode=Bot.Mode.DRY_RUN, name="b1")
    run_due_ticks()
    assert all(BotPosition.objects.get(bot=b).qty != 0 for b in (a1, a2, b1))

    kill_switch_engage(scope=KillSwitch.Scope.BOT, bot=a1, by=alice.user, flatten=True)
    assert BotPosition.objects.get(bot=a1).qty == 0
    assert BotPosition.objects.get(bot=a2).qty != 0 and BotPosition.objects.get(bot=b1).qty != 0

    kill_switch_engage(
        scope=KillSwitch.Scope.GLOBAL, by=None, flatten=True, reason="exchange incident"
    )
    assert all(BotPosition.objects.get(bot=b).qty == 0 for b in (a1, a2, b1))
    sim.advance(minutes=15)
    ticks = run_due_ticks()
    assert len(ticks) == 3 and all("Kill switch on" in t.reasons for t in ticks)


def test_circuit_breaker_pauses_the_bot_and_raises_one_alert(sim):
    owner = client_with_2fa()
    bot = running_bot(owner, mode=Bot.Mode.DRY_RUN)
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    EquitySnapshot.objects.create(
        tenant=owner.tenant, at=start + timedelta(minutes=1), equity=Decimal("10000")
    )
    EquitySnapshot.objects.create(
        tenant=owner.tenant, at=timezone.now(), equity=Decimal("9500")
    )  # -5% today

    (tick,) = run_due_ticks()
    assert tick.status == BotTick.Status.DONE
    bot.refresh_from_db()
    assert bot.state == Bot.State.PAUSED
    assert "Daily loss 5.00% reached the limit of 4.00%" in bot.state_reason
    alert = Alert.objects.get(bot=bot)
    assert alert.severity == "critical" and alert.kind == "breaker.daily_loss"
    assert not OrderIntent.objects.filter(bot=bot).exists()
