"""End to end: a real Celery worker, real Redis and the simulator in stepped clock.

Three tenants with different templates run live for a replayed day. Every five simulated minutes
the test does what beat does (sync candles, dispatch ticks); the worker runs the ticks, and the
stream runner (in this process) brings the fills back. Then
reconciliation runs on the worker, and orders, fills, positions, P&L and equity must match what the
simulator holds, to the cent.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bots.models import (
    Bot,
    BotFill,
    BotPosition,
    BotTick,
    EquitySnapshot,
    OrderIntent,
    RiskTemplate,
)
from bots.services.lifecycle import bot_transition
from bots.services.ticks import ticks_dispatch
from bots.services.tuning import bot_create
from exchange.gateway import ExchangeGateway
from exchange.services.candles import candles_sync
from exchange.streams.runner import StreamRunner
from tests.factories import client_with_2fa, connect_live
from tests.fixtures.celery_worker import start_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CENT = Decimal("0.01")
STEP_MINUTES = 5
DAY_STEPS = 24 * 60 // STEP_MINUTES
TENANTS = (("conservative", "ETHUSDT"), ("moderate", "BTCUSDT"), ("aggressive", "BTCUSDT"))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


@pytest.fixture
def wired(sim, monkeypatch, tmp_path):
    """The simulator in this process's settings and in the worker's environment."""
    monkeypatch.setenv("EXCHANGE_SIMULATOR_PORT", str(sim.port))
    monkeypatch.setenv("EXCHANGE_MARKET_DATA_ENVIRONMENT", "simulator")
    worker = start_worker(tmp_path, concurrency=2)
    try:
        yield sim, worker
    finally:
        worker.stop()


def _dispatch_like_beat(five_minute_bot: Bot) -> int:
    """Dispatch as beat does, every moment, until the 5-minute bot has its tick for the newest
    candle: a bot whose row a worker holds locked is skipped by one pass and taken by the next."""
    total = 0

    def due_done() -> bool:
        nonlocal total
        total += len(ticks_dispatch())
        newest = five_minute_bot_newest_candle(five_minute_bot)
        return BotTick.objects.filter(bot=five_minute_bot, candle_start=newest).exists()

    wait_for(due_done, timeout=30, interval=0.1, message="the 5-minute bot's tick")
    return total


def five_minute_bot_newest_candle(bot: Bot):
    from exchange.models import Candle

    return (
        Candle.objects.filter(symbol=bot.symbol, interval=bot.timeframe)
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )


def test_three_tenants_trade_a_replayed_day_and_match_the_exchange_to_the_cent(wired):
    sim, worker = wired
    tenants = []
    for slug, symbol in TENANTS:
        owner = client_with_2fa()
        _uid, connection = connect_live(sim, owner)
        bot = bot_create(
            tenant=owner.tenant,
            template=RiskTemplate.objects.get(slug=slug),
            name=slug,
            symbol=symbol,
            connection=connection,
            by=owner.user,
            mode=Bot.Mode.LIVE,
        ).bot
        bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
        tenants.append((owner, connection, bot))

    five_minute_bot = next(bot for _o, _c, bot in tenants if bot.timeframe == "5")
    # The stream process, as production runs it: fills reach the bots between candles, so each
    # tick decides on the position it really holds.
    runner = StreamRunner(0, 1)
    runner.start()
    dispatched = 0
    try:
        for _ in range(DAY_STEPS):
            sim.advance(minutes=STEP_MINUTES)
            # A repair the worker runs for a pair holds its lock: sync until every pair is in.
            wait_for(
                lambda: not any(r.skipped for r in candles_sync().values()),
                timeout=30,
                interval=0.05,
                message="every pair's candle sync",
            )
            dispatched += _dispatch_like_beat(five_minute_bot)
            wait_for(
                lambda: not BotTick.objects.filter(status=BotTick.Status.PENDING).exists(),
                timeout=60,
                message="the worker to finish the due ticks",
            )
            for _step in range(3):
                runner.step(timeout=0.02)
    finally:
        runner.stop()
    assert dispatched >= DAY_STEPS, "the 5-minute bot alone ticks every step"
    assert not BotTick.objects.filter(status=BotTick.Status.FAILED).exists(), list(
        BotTick.objects.filter(status=BotTick.Status.FAILED).values_list("error", flat=True)[:3]
    )

    # Reconciliation and snapshots, run by the worker as beat would.
    from bots.tasks import reconcile_all, snapshot_equity

    # Only this run's reconciliations count: the worker's own one at start may have seen the first
    # bots (on a busy machine it runs late) and logged "reconcile.done" already.
    seen = len(worker.log_text())
    reconcile_all.delay()
    wait_for(
        lambda: _reconciled(worker.log_text()[seen:]) >= {c.pk for _o, c, _b in tenants},
        timeout=60,
        message="every connection's reconciliation",
    )
    # Ticks wrote a first snapshot per tenant when they first sized; wait for the task's new ones.
    before = EquitySnapshot.objects.filter(bot=None).count()
    snapshot_equity.delay()
    wait_for(
        lambda: EquitySnapshot.objects.filter(bot=None).count() >= before + len(tenants),
        timeout=60,
        message="the snapshot task",
    )

    traded = 0
    for owner, connection, bot in tenants:
        gateway = ExchangeGateway.for_connection(connection)
        intents = OrderIntent.objects.filter(bot=bot)
        # Orders: every intent exists on the exchange once, with its quantity; no order we did not make.
        for intent in intents:
            order = gateway.get_order(bot.symbol, order_link_id=intent.order_link_id)
            assert intent.state != OrderIntent.State.UNKNOWN, intent.order_link_id
            if intent.state == OrderIntent.State.REJECTED:
                assert order is None, (
                    f"{intent.order_link_id} was refused, yet exists: {intent.error}"
                )
            else:
                assert order is not None and order.qty == intent.qty, (
                    intent.order_link_id,
                    intent.state,
                )
        executions = gateway.executions_since(sim_start(gateway))
        # Every fill is of our orders, or of our positions' own TP/SL (no orderLinkId).
        ours = set(intents.values_list("order_link_id", flat=True)) | {""}
        assert {e.order_link_id for e in executions} <= ours
        # Fills: the same executions, once each, with the same quantities and fees.
        fills = BotFill.objects.filter(bot=bot)
        assert sorted(fills.values_list("exec_id", flat=True)) == sorted(
            e.exec_id for e in executions
        )
        assert sum((f.fee for f in fills), Decimal(0)) == sum(
            (e.exec_fee for e in executions), Decimal(0)
        )
        # Positions.
        local = BotPosition.objects.filter(bot=bot).first()
        on_exchange = [p for p in gateway.positions(bot.symbol) if p.size]
        signed = (
            (on_exchange[0].size if on_exchange[0].side == "Buy" else -on_exchange[0].size)
            if on_exchange
            else 0
        )
        assert (local.qty if local else 0) == signed
        if on_exchange:
            assert local.avg_price == on_exchange[0].avg_price
        # P&L: realised P&L net of fees is exactly what the wallet gained or lost since the deposit.
        wallet = gateway.wallet_balance()
        realised = local.realised_pnl if local else Decimal(0)
        assert cents(wallet.total_wallet_balance - Decimal("10000")) == cents(realised)
        # Equity: the snapshot is the wallet's equity.
        snapshot = (
            EquitySnapshot.objects.filter(tenant=owner.tenant, bot=None).order_by("-at").first()
        )
        assert cents(snapshot.equity) == cents(wallet.total_equity)
        traded += len(executions)
    assert traded > 0, "a replayed day must produce fills"


def sim_start(gateway: ExchangeGateway):
    """From just before the first fill the engine recorded (market time, not wall time)."""
    from datetime import timedelta

    first = BotFill.objects.order_by("exec_time").first()
    return (first.exec_time if first else gateway.server_time()) - timedelta(minutes=5)


def _reconciled(log: str) -> set[int]:
    """The connections whose reconciliation finished in this part of the worker's log."""
    done = set()
    for line in log.splitlines():
        if '"reconcile.done"' in line:
            try:
                done.add(json.loads(line)["connection_id"])
            except ValueError:  # the line is still being written; the next poll reads it whole
                continue
    return done
