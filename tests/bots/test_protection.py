"""Kill switches at three levels and the circuit breaker, against the simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Alert, Bot, BotPosition, BotTick, KillSwitch, OrderIntent
from bots.services.orders import kill_switch_link_id
from bots.services.protection import kill_switch_engage, kill_switch_release
from bots.services.snapshots import snapshot_connection
from exchange.gateway import ExchangeGateway
from tests.factories import client_with_2fa, connect_live, running_bot
from tests.fixtures.engine import filled_live_bot, round_trip_by_hand, run_due_ticks

pytestmark = pytest.mark.django_db(transaction=True)


def test_tenant_kill_switch_flattens_on_the_exchange_and_blocks_new_orders(sim, owner):
    _, connection, bot = filled_live_bot(sim, owner)
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
    close = OrderIntent.objects.get(order_link_id=kill_switch_link_id(switch.pk, bot.pk))
    assert close.reduce_only is True

    # Enforcing again never doubles the close.
    from bots.services.protection import kill_switch_enforce

    kill_switch_enforce(switch=switch)
    assert OrderIntent.objects.filter(reduce_only=True, bot=bot).count() == 1

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
    """A real loss on the account (taker fees of a round trip placed by hand) beyond the bot's
    daily limit pauses it at its next tick, with one critical alert and no order."""
    owner = client_with_2fa()
    _, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    Bot.objects.filter(pk=bot.pk).update(daily_loss_limit=Decimal("0.0001"))
    snapshot_connection(connection=connection)
    round_trip_by_hand(sim, connection, "by-hand")
    snapshot_connection(connection=connection)

    (tick,) = run_due_ticks()
    assert tick.status == BotTick.Status.DONE
    bot.refresh_from_db()
    assert bot.state == Bot.State.PAUSED
    assert "reached the limit of 0.01%" in bot.state_reason
    alert = Alert.objects.get(bot=bot)
    assert alert.severity == "critical" and alert.kind == "breaker.daily_loss"
    assert not OrderIntent.objects.filter(bot=bot).exists()
