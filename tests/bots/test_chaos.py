"""Chaos: 200 seeded runs of a live bot while the exchange and the workers misbehave.

Each run is a fresh tenant, simulator account and live bot that ticks three candles. A generator
seeded by the run number picks the faults for every order it sends:

- the simulator places the order but drops the reply (``drop_reply``);
- the simulator answers HTTP 502 without placing it (``http_5xx``);
- the account's order endpoint is rate limited (10006);
- the tick task is delivered twice;
- the worker dies right after the order left and before anything was recorded (a ``BaseException``
  raised out of the send, which the tick does not catch, as a SIGKILL would not let it), then the
  task is redelivered.

Around the orders, the books are shaken too (issue 12):
- the key is rotated: a new key of the same Bybit account is connected and takes over the bot;
- the same fills are delivered again through the other key (two keys' streams at once);
- capital is withdrawn from the account;
- the tenant is disabled by the operator (it ticks no more; its books still reconcile).

Fills reach the engine only through reconciliation's REST catch-up (through whichever key is
current): the worst case of a dead stream (stream disconnects themselves are tested in
``tests/exchange/test_streams.py``).

Asserted after every run, after reconciliation:
- no ``orderLinkId`` reached the exchange twice (one exchange order per link id);
- every exchange execution is stored once (``Execution``) and applied once (``BotFill``);
- one position per bot, equal to the exchange's (size and average price);
- every flow of the account's transaction log recorded once, and the books check finds nothing.
The test prints how many of each fault it injected.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import Membership
from accounts.services.tenants import tenant_disable
from bots.models import Bot, BotFill, BotPosition, BotTick, CapitalFlow, OrderIntent, RiskTemplate
from bots.services.books import FLOW_TYPES, books_check
from bots.services.lifecycle import bot_transition
from bots.services.reconcile import reconcile_connection
from bots.services.ticks import tick_run, ticks_dispatch
from bots.services.tuning import bot_create
from exchange.gateway import ExchangeGateway
from exchange.models import ExchangeAccount, ExchangeConnection, Execution
from exchange.services.candles import candles_sync
from exchange.services.executions import execution_store, executions_hand_over
from exchange.services.keys import exchange_key_connect, exchange_key_replace
from tests.factories import client_with_2fa, connection_with_account

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
RUNS = int(os.environ.get("CHAOS_RUNS", "200"))
CANDLES_PER_RUN = 3


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the tick catches it."""


@pytest.fixture
def sim(sim_session, settings):
    """The session's simulator (200 runs on fresh accounts), with a short HTTP timeout."""
    settings.EXCHANGE_HTTP_TIMEOUT_SECONDS = 0.5
    return sim_session


def _new_live_bot(sim, template: RiskTemplate) -> tuple[Bot, ExchangeConnection, int]:
    owner = client_with_2fa()
    uid, key, secret = sim.create_account(usdt="10000")
    connection = connection_with_account(
        tenant=owner.tenant, environment="simulator", status="active", exchange_uid=str(uid)
    )
    from exchange.credentials import credentials_seal

    credentials_seal(connection, api_key=key, api_secret=secret)
    bot = bot_create(
        tenant=owner.tenant,
        template=template,
        name=f"chaos {uid}",
        symbol="BTCUSDT",
        connection=connection,
        by=owner.user,
        mode=Bot.Mode.LIVE,
    ).bot
    return bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user), connection, uid


def test_two_hundred_chaotic_runs_never_double_an_order(sim, monkeypatch):
    # Trend following on 1-minute candles: it enters on every first tick, and 200 runs move the
    # stepped market clock by hours, not days.
    moderate = RiskTemplate.objects.get(slug="moderate")
    template, _ = RiskTemplate.objects.update_or_create(
        slug="chaos-1m",
        defaults={
            **{
                f.name: getattr(moderate, f.name)
                for f in RiskTemplate._meta.concrete_fields
                if f.name not in ("id", "slug")
            },
            "name": "Chaos (1m trend)",
            "timeframe": "1",
        },
    )
    counts: Counter[str] = Counter()
    real_place = ExchangeGateway.place_order
    kill_next = {"on": False}

    def place_then_maybe_die(self, request):
        ack = real_place(self, request)
        if kill_next["on"]:
            kill_next["on"] = False
            raise WorkerKilled()
        return ack

    monkeypatch.setattr(ExchangeGateway, "place_order", place_then_maybe_die)

    for run in range(RUNS):
        rng = random.Random(run)
        bot, connection, uid = _new_live_bot(sim, template)
        Bot.objects.exclude(pk=bot.pk).filter(state=Bot.State.RUNNING).update(
            state=Bot.State.STOPPED
        )
        for _ in range(CANDLES_PER_RUN):
            sim.advance(minutes=1)
            candles_sync()
            fault = rng.choice(
                ["none", "none", "drop_reply", "http_5xx", "rate_limit", "duplicate", "killed"]
            )
            counts[fault] += 1
            if fault == "drop_reply":
                sim.fault("drop_reply", uid=uid, path="/v5/order/create", count=1)
            elif fault == "http_5xx":
                sim.fault("http_5xx", uid=uid, path="/v5/order/create", count=1)
            elif fault == "rate_limit":
                sim.admin("POST", "/sim/ratelimits", {"endpoints": {"/v5/order/create": 0}})
            elif fault == "killed":
                kill_next["on"] = True
            for bot_id, candle_start in ticks_dispatch():
                try:
                    tick_run(bot_id=bot_id, candle_start=candle_start)
                except WorkerKilled:
                    counts["worker_killed_mid_tick"] += 1
                    assert (
                        BotTick.objects.get(bot_id=bot_id, candle_start=candle_start).status
                        == "pending"
                    )
                    tick_run(bot_id=bot_id, candle_start=candle_start)  # the redelivery
                if fault == "duplicate":
                    BotTick.objects.filter(bot_id=bot_id, candle_start=candle_start).update(
                        status="pending"
                    )
                    tick_run(bot_id=bot_id, candle_start=candle_start)
            kill_next["on"] = False
            sim.clear_faults()
            if fault == "rate_limit":
                sim.admin("DELETE", "/sim/ratelimits")
            sim.advance(ms=20_000)  # let market orders fill, inside the same minute
            books_fault = rng.choice(
                ["none"] * 6 + ["rotate", "double_stream", "withdraw", "disable"]
            )
            counts[books_fault] += 1
            if books_fault == "rotate":
                connection = _rotate_key(sim, bot, connection, uid)
            elif books_fault == "double_stream":
                _deliver_again_through_every_key(bot, connection)
            elif books_fault == "withdraw":
                sim.admin("POST", f"/sim/accounts/{uid}/withdraw", {"amount": "1"})
            elif books_fault == "disable":
                tenant_disable(tenant=bot.tenant, by=None)
            reconcile_connection(connection=connection)
        reconcile_connection(connection=connection)  # the flows of this run's last moments
        try:
            _assert_consistent(bot, connection, sim)
        except AssertionError as exc:
            raise AssertionError(f"chaos run {run} (seed {run}) broke an invariant: {exc}") from exc

    counts["orders_unknown_at_end"] = OrderIntent.objects.filter(
        state=OrderIntent.State.UNKNOWN
    ).count()
    print("\nchaos faults injected:", dict(sorted(counts.items())))  # noqa: T201 - the issue asks for it
    assert (
        counts["drop_reply"]
        and counts["http_5xx"]
        and counts["rate_limit"]
        and counts["worker_killed_mid_tick"]
    )


def _rotate_key(sim, bot: Bot, old: ExchangeConnection, uid: int) -> ExchangeConnection:
    """The documented rotation: a new key of the same account, connected, then taking over."""
    owner = Membership.objects.get(tenant=bot.tenant).user
    second = sim.admin("POST", f"/sim/accounts/{uid}/keys", {})
    new = exchange_key_connect(
        tenant=bot.tenant,
        environment="simulator",
        api_key=second["api_key"],
        api_secret=second["api_secret"],
        by=owner,
    )
    assert new.account_id == old.account_id
    exchange_key_replace(old=old, new=new, by=owner)
    return new


def _deliver_again_through_every_key(bot: Bot, current: ExchangeConnection) -> None:
    """The account's recent fills offered again through each of its keys, then handed over."""
    recent = ExchangeGateway.for_connection(current).executions_since(_since(bot))
    for key in ExchangeConnection.objects.filter(account_id=current.account_id):
        execution_store(connection_id=key.pk, executions=recent, source="stream")
    executions_hand_over()


def _assert_consistent(bot: Bot, connection: ExchangeConnection, sim) -> None:
    gateway = ExchangeGateway.for_connection(connection)
    intents = list(OrderIntent.objects.filter(bot=bot))
    executions = gateway.executions_since(_since(bot))
    # One exchange order per orderLinkId: every fill of a link id belongs to one order id.
    order_ids_by_link: dict[str, set[str]] = {}
    for execution in executions:
        order_ids_by_link.setdefault(execution.order_link_id, set()).add(execution.order_id)
    for link, order_ids in order_ids_by_link.items():
        if link:
            assert len(order_ids) == 1, f"{link} reached the exchange as {len(order_ids)} orders"
    for intent in intents:
        order = gateway.get_order(bot.symbol, order_link_id=intent.order_link_id)
        if order is not None:
            assert order.qty == intent.qty
    # Every execution stored once and applied once.
    exec_ids = sorted(e.exec_id for e in executions)
    stored = sorted(
        Execution.objects.filter(account_id=connection.account_id).values_list("exec_id", flat=True)
    )
    applied = sorted(BotFill.objects.filter(bot=bot).values_list("exec_id", flat=True))
    assert stored == exec_ids and applied == exec_ids
    # One position, equal to the exchange's.
    assert BotPosition.objects.filter(bot=bot).count() <= 1
    local = BotPosition.objects.filter(bot=bot).first()
    live = [p for p in gateway.positions(bot.symbol) if p.size]
    signed = (live[0].size if live[0].side == "Buy" else -live[0].size) if live else Decimal(0)
    assert (local.qty if local else Decimal(0)) == signed
    if live:
        assert local is not None and local.avg_price == live[0].avg_price
    # Every flow once, and the books check agrees with all of the above.
    account = ExchangeAccount.objects.get(connections=connection)
    entries, _ = gateway.transaction_log_since(
        account.created_at - timedelta(days=1), types=frozenset(FLOW_TYPES)
    )
    recorded = sorted(
        CapitalFlow.objects.filter(account_id=connection.account_id).values_list(
            "exchange_id", flat=True
        )
    )
    assert recorded == sorted(e.id for e in entries)
    check = books_check(connection=connection, since=_since(bot), alert=False)
    assert not check.divergent, check


def _since(bot: Bot):
    first = BotFill.objects.filter(bot=bot).order_by("exec_time").first()
    tick = BotTick.objects.filter(bot=bot).order_by("candle_start").first()
    assert tick is not None, "every run ticks at least once"
    anchor = first.exec_time if first else tick.candle_start
    return min(anchor, tick.candle_start) - timedelta(minutes=30)
