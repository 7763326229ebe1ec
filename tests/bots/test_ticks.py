"""Ticks against the simulator (stepped clock): dry run and live, never a doubled order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bots.models import Bot, BotFill, BotPosition, BotTick, OrderIntent, SharedSignal
from bots.services.orders import intent_resolve, intent_send
from bots.services.ticks import tick_run, ticks_dispatch
from exchange.gateway import ExchangeGateway
from exchange.services.candles import candles_sync
from exchange.services.executions import execution_store, executions_hand_over
from tests.factories import client_with_2fa, connect_live, running_bot
from tests.fixtures.engine import run_due_ticks

pytestmark = pytest.mark.django_db(transaction=True)  # ticks enqueue on commit


def test_dry_run_bots_share_one_signal_and_fill_at_the_close_without_sending(sim, owner):
    bots = [running_bot(owner, mode=Bot.Mode.DRY_RUN, name=f"dry {i}") for i in range(3)]
    ticks = run_due_ticks()

    assert len(ticks) == 3 and all(t.status == BotTick.Status.DONE for t in ticks), [
        t.error for t in ticks
    ]
    assert SharedSignal.objects.count() == 1  # one indicator run for three bots
    intents = OrderIntent.objects.filter(bot__in=bots)
    assert intents.count() == 3 and all(i.state == OrderIntent.State.SIMULATED for i in intents)
    for bot in bots:
        position = BotPosition.objects.get(bot=bot)
        intent = intents.get(bot=bot)
        assert abs(position.qty) == intent.qty and position.avg_price == intent.avg_fill_price
        assert BotFill.objects.get(bot=bot).simulated is True
    assert "EMA" in ticks[0].reasons  # the strategy's reason, in words

    assert run_due_ticks() == []  # same candle: nothing is due again


def test_live_tick_sends_once_and_the_fill_updates_the_position(sim, owner):
    _uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    (tick,) = run_due_ticks()
    assert tick.status == BotTick.Status.DONE, tick.error
    (intent,) = OrderIntent.objects.filter(bot=bot)
    assert intent.state == OrderIntent.State.SENT and intent.exchange_order_id

    # A redelivered tick (the worker died before marking it done) continues without resending.
    BotTick.objects.filter(pk=tick.pk).update(status=BotTick.Status.PENDING)
    tick_run(bot_id=bot.pk, candle_start=tick.candle_start)
    assert OrderIntent.objects.filter(bot=bot).count() == 1

    gateway = ExchangeGateway.for_connection(connection)
    sim.advance(minutes=1)  # the market order fills as the clock moves
    order = gateway.get_order("BTCUSDT", order_link_id=intent.order_link_id)
    assert order is not None and order.status == "Filled"
    history = gateway.executions(symbol="BTCUSDT")
    assert {e.order_link_id for e in history.items} == {intent.order_link_id}  # exactly one order

    # The fill arrives (here through the REST catch-up path the streams also use).
    execution_store(connection_id=connection.pk, executions=history.items, source="rest")
    assert executions_hand_over() == len(history.items)
    executions_hand_over()  # offered again: applied once
    position = BotPosition.objects.get(bot=bot)
    (exchange_position,) = [p for p in gateway.positions("BTCUSDT") if p.size != 0]
    signed = exchange_position.size if exchange_position.side == "Buy" else -exchange_position.size
    assert position.qty == signed
    assert position.avg_price == exchange_position.avg_price
    assert BotFill.objects.filter(bot=bot).count() == len(history.items)


def test_a_dropped_reply_is_resolved_by_asking_never_by_sending_again(sim, owner, settings):
    uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    sim.fault("drop_reply", uid=uid, path="/v5/order/create", ms=1500, count=1)
    settings.EXCHANGE_HTTP_TIMEOUT_SECONDS = 1.0
    (_tick,) = run_due_ticks()
    (intent,) = OrderIntent.objects.filter(bot=bot)
    assert intent.state == OrderIntent.State.UNKNOWN  # the order exists, but we never heard back

    gateway = ExchangeGateway.for_connection(connection)
    intent_send(intent=intent, gateway=gateway)  # a retry must not send an UNKNOWN intent
    resolved = intent_resolve(intent=intent, gateway=gateway)
    assert resolved.state in (OrderIntent.State.SENT, OrderIntent.State.FILLED)
    assert resolved.exchange_order_id
    sim.advance(minutes=1)
    links = [e.order_link_id for e in gateway.executions(symbol="BTCUSDT").items]
    assert set(links) == {intent.order_link_id}
    assert (
        Decimal(sum(e.exec_qty for e in gateway.executions(symbol="BTCUSDT").items)) == intent.qty
    )


def test_a_parameter_change_applies_at_the_next_tick_without_a_restart(sim, owner):
    from bots.services.tuning import bot_tuning_update

    bot = running_bot(owner, mode=Bot.Mode.DRY_RUN)
    (first,) = run_due_ticks()
    first_intent = OrderIntent.objects.get(tick=first)

    # Halve the risk per trade and change the strategy's EMAs; nothing is restarted.
    bot_tuning_update(
        bot=bot,
        by=owner.user,
        limits={"risk_per_trade": "0.005"},
        strategy_params={"fast_period": 5, "slow_period": 40},
    )
    from bots.services.protection import kill_switch_engage

    kill_switch_engage(scope="bot", bot=bot, by=owner.user, flatten=True)  # back to flat...
    from bots.models import KillSwitch

    KillSwitch.objects.filter(bot=bot).update(active=False)  # ...and trading again
    sim.advance(minutes=15)
    (second,) = run_due_ticks()
    second_intent = OrderIntent.objects.get(tick=second)
    assert second.signal != first.signal  # new parameters: a different shared signal
    assert SharedSignal.objects.count() == 2
    assert first_intent.qty > 0
    # The size is exactly what the new risk per trade gives for this tick's stop distance.
    from bots.risk import position_size
    from bots.services.tuning import limits_for
    from exchange.instruments import instrument_get
    from exchange.models import Candle

    bot.refresh_from_db()
    close = Candle.objects.get(
        symbol="BTCUSDT", interval=bot.timeframe, start=second.candle_start
    ).close
    expected, _ = position_size(
        limits=limits_for(bot),
        equity=Decimal("10000"),
        price=close,
        stop_distance=Decimal(second.signal["stop_distance"]),
        instrument=instrument_get("simulator", "BTCUSDT"),
    )
    assert bot.risk_per_trade == Decimal("0.005")
    assert second_intent.qty == expected


def test_a_rate_limited_order_is_refused_not_left_unknown(sim, owner):
    """10006 means Bybit did not process the order: REJECTED (the next candle decides again)."""
    _uid, connection = connect_live(sim, owner)
    bot = running_bot(owner, mode=Bot.Mode.LIVE, connection=connection)
    sim.admin("POST", "/sim/ratelimits", {"endpoints": {"/v5/order/create": 0}})
    (_tick,) = run_due_ticks()
    (intent,) = OrderIntent.objects.filter(bot=bot)
    assert intent.state == OrderIntent.State.REJECTED, (intent.state, intent.error)
    assert "slow down" in intent.error and "not processed" in intent.error
    sim.admin("DELETE", "/sim/ratelimits")
    gateway = ExchangeGateway.for_connection(connection)
    assert gateway.get_order("BTCUSDT", order_link_id=intent.order_link_id) is None


def _dispatch_without_workers() -> list[tuple[int, datetime]]:
    """Dispatch as beat does, but keep the chunks here instead of queueing them."""
    from unittest import mock

    candles_sync()
    with mock.patch("bots.tasks.tick_batch.delay"):
        return ticks_dispatch()


def test_a_chunk_of_live_bots_sends_each_order_once_with_sends_overlapping(sim, settings):
    """Several live bots in one chunk: their sends overlap on threads, each order reaches the
    exchange once, the pages hear "orders" once per bot, and a redelivered chunk sends nothing."""
    from unittest import mock

    from bots.services.ticks import publishes_flush, ticks_run

    settings.TICK_SEND_THREADS = 4
    bots, connections = [], []
    for i in range(3):
        owner = client_with_2fa()
        _uid, connection = connect_live(sim, owner)
        bots.append(running_bot(owner, mode=Bot.Mode.LIVE, connection=connection, name=f"l{i}"))
        connections.append(connection)
    due = _dispatch_without_workers()
    with mock.patch("bots.services.ticks.publish_bot_event") as publish:
        ticks = ticks_run(bot_ids=[bot_id for bot_id, _ in due], candle_start=due[0][1])
        publishes_flush()  # pushes leave from the process's publisher thread
    assert [t.status for t in ticks] == [BotTick.Status.DONE] * 3, [t.error for t in ticks]
    assert sorted(c.kwargs["bot_id"] for c in publish.call_args_list) == sorted(b.pk for b in bots)
    assert {c.kwargs["kind"] for c in publish.call_args_list} == {"orders"}

    BotTick.objects.filter(pk__in=[t.pk for t in ticks]).update(status=BotTick.Status.PENDING)
    ticks_run(bot_ids=[bot.pk for bot in bots], candle_start=due[0][1])  # the redelivery
    sim.advance(minutes=1)
    for bot, connection in zip(bots, connections, strict=True):
        (intent,) = OrderIntent.objects.filter(bot=bot)
        assert intent.state == OrderIntent.State.SENT and intent.exchange_order_id
        gateway = ExchangeGateway.for_connection(connection)
        executions = gateway.executions(symbol="BTCUSDT").items
        assert {e.order_id for e in executions} == {intent.exchange_order_id}
        assert sum(e.exec_qty for e in executions) == intent.qty


def test_a_chunk_costs_the_same_queries_for_two_bots_or_eight(sim):
    """Reads and writes are per chunk, not per bot: a chunk of eight dry-run bots that each order
    takes exactly as many queries as a chunk of two."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bots.services.ticks import ticks_run

    counts = []
    for size in (2, 8):
        Bot.objects.filter(state=Bot.State.RUNNING).update(state=Bot.State.PAUSED)
        owner = client_with_2fa()
        for i in range(size):
            running_bot(owner, mode=Bot.Mode.DRY_RUN, name=f"q{size}-{i}")
        sim.advance(minutes=15)
        due = _dispatch_without_workers()
        with CaptureQueriesContext(connection) as ctx:
            ticks = ticks_run(bot_ids=[bot_id for bot_id, _ in due], candle_start=due[0][1])
        assert len(ticks) == size and all(t.status == BotTick.Status.DONE for t in ticks)
        assert OrderIntent.objects.filter(tick__in=ticks).count() == size  # every bot ordered
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_dispatch_reads_the_bots_alone_in_the_same_queries_for_two_bots_or_eight(sim):
    """The dispatch skips a suspended tenant's bots in as many queries for eight bots as for two,
    and reads the bots without joining the tenants (halted ones are excluded by id): joined, a
    fleet written since the last ANALYZE was planned as a loop over every tenant for every bot."""
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Tenant

    counts, joined = [], []
    for size in (2, 8):
        Bot.objects.filter(state=Bot.State.RUNNING).update(state=Bot.State.PAUSED)
        owner, halted = client_with_2fa(), client_with_2fa()
        bots = [running_bot(owner, mode=Bot.Mode.DRY_RUN, name=f"d{size}-{i}") for i in range(size)]
        running_bot(halted, mode=Bot.Mode.DRY_RUN, name=f"h{size}")
        Tenant.objects.filter(pk=halted.tenant.pk).update(status=Tenant.Status.SUSPENDED)
        sim.advance(minutes=15)
        candles_sync()

        with mock.patch("bots.tasks.tick_batch.delay"), CaptureQueriesContext(connection) as ctx:
            due = ticks_dispatch()

        assert sorted(bot_id for bot_id, _ in due) == sorted(bot.pk for bot in bots)
        counts.append(len(ctx.captured_queries))
        joined += [
            q["sql"]
            for q in ctx.captured_queries
            if 'FROM "bots_bot"' in q["sql"] and '"accounts_tenant"' in q["sql"]
        ]
    assert counts[0] == counts[1], counts
    assert joined == []


def test_a_bot_kill_switch_stops_that_bot_only(sim):
    """A bot's switch blocks its new orders; its tenant's other bots keep trading."""
    from bots.models import KillSwitch

    owner = client_with_2fa()
    stopped = running_bot(owner, mode=Bot.Mode.DRY_RUN, name="stopped")
    other = running_bot(owner, mode=Bot.Mode.DRY_RUN, name="other")
    KillSwitch.objects.create(scope=KillSwitch.Scope.BOT, tenant=owner.tenant, bot=stopped)
    ticks = {t.bot_id: t for t in run_due_ticks()}
    assert "Kill switch on (bot)" in ticks[stopped.pk].reasons
    assert not OrderIntent.objects.filter(bot=stopped).exists()
    assert OrderIntent.objects.filter(bot=other).count() == 1
