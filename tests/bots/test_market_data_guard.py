"""A bot decides only on whole history of its own environment: backfill to its lookback whoever
wrote the first candle, repair inside the lookback, and a tick that says why it did not decide.

Real simulator (stepped clock), real stream runner, real Celery worker where the start trigger is
under test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet

from bots.models import Bot, BotTick, OrderIntent, RiskTemplate
from bots.services.lifecycle import bot_transition
from bots.services.ticks import tick_run, ticks_dispatch
from bots.services.tuning import bot_create
from bots.strategies import NoDecisionCode
from exchange.models import Candle, ExchangeConnection
from exchange.selectors import candle_run
from exchange.services.candles import candles_sync
from exchange.streams.runner import StreamRunner
from tests.fixtures.celery_worker import start_worker, wait_for
from tradingsvc.lib.redis import get_redis

pytestmark = pytest.mark.django_db(transaction=True)  # ticks and start requests run on commit

FIFTEEN = timedelta(minutes=15)


@pytest.fixture
def sim(sim: Any, settings: Any) -> Any:
    """The shared fresh simulator, with no engine hook on the streams and a backfill just past
    the moderate template's lookback (so repairs inside it show)."""
    settings.EXCHANGE_STREAM_HANDLERS = []
    settings.EXCHANGE_CANDLE_BACKFILL = 60
    settings.EXCHANGE_CANDLE_DEPTH_MARGIN = 10
    return sim


def start_bot(owner: Any, connection: ExchangeConnection | None = None, name: str = "bot") -> Bot:
    """A dry-run bot on the moderate template: EMA 12/26 on 15-minute candles, lookback 27."""
    template = RiskTemplate.objects.get(slug="moderate")
    bot = bot_create(
        tenant=owner.tenant,
        template=template,
        name=name,
        symbol="BTCUSDT",
        connection=connection,
        by=owner.user,
    ).bot
    return bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)


def pump(runner: StreamRunner, until: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("stream condition not met in time")
        runner.step(timeout=0.05)


def subscribed(runner: StreamRunner) -> None:
    """Wait until the public socket is up and its subscription answers (a ticker arrives)."""
    pump(
        runner,
        lambda: (
            "public:linear:simulator" in runner.sockets
            and runner.sockets["public:linear:simulator"].connects >= 1
            and runner.messages > 0
        ),
    )


def btc_15m() -> QuerySet[Candle]:
    return Candle.objects.filter(environment="simulator", symbol="BTCUSDT", interval="15")


def newest() -> datetime | None:
    return btc_15m().order_by("-start").values_list("start", flat=True).first()


def next_candle_by_stream(sim: Any, runner: StreamRunner) -> datetime:
    """Step the exchange clock one interval; the stream (not the sync) stores the closed candle."""
    before = newest()
    sim.advance(minutes=15)
    pump(runner, lambda: newest() is not None and newest() != before)
    found = newest()
    assert found is not None
    return found


def due_ticks() -> list[BotTick]:
    return [tick_run(bot_id=bot_id, candle_start=start) for bot_id, start in ticks_dispatch()]


@pytest.fixture
def runner(sim: Any, settings: Any) -> Iterator[StreamRunner]:
    """The stream runner, following the assignment quickly (bots start inside the tests)."""
    settings.EXCHANGE_STREAM_ASSIGNMENT_SECONDS = 0.2
    stream = StreamRunner(0, 1)
    stream.start()
    try:
        yield stream
    finally:
        stream.stop()


def test_the_stream_writing_first_does_not_cut_the_backfill(
    sim: Any, owner: Any, runner: StreamRunner
) -> None:
    """The kline stream stores the pair's first candle before the sync runs; the sync then still
    stores the full depth, and the bot decides on the next candle."""
    start_bot(owner)
    subscribed(runner)
    next_candle_by_stream(sim, runner)
    assert btc_15m().count() == 1

    candles_sync()

    run = candle_run(environment="simulator", symbol="BTCUSDT", interval="15", need=1000)
    assert run.run >= 60  # the configured default; the bot's 27 + 10 is less
    next_candle_by_stream(sim, runner)
    (tick,) = due_ticks()
    assert tick.status == BotTick.Status.DONE and "no_decision" not in tick.signal


def test_a_gap_inside_the_lookback_is_repaired_before_the_bot_decides(
    sim: Any, owner: Any, settings: Any, runner: StreamRunner
) -> None:
    """Three candles lost 15-17 intervals back (older than a 10-interval repair window, inside the
    27-candle lookback): the tick records no decision with the gap and places nothing, the repair
    is requested, the sync fills the gap, and the next candle is decided."""
    settings.EXCHANGE_CANDLE_REPAIR_WINDOW = 10
    bot = start_bot(owner)
    subscribed(runner)
    candles_sync()
    starts = list(btc_15m().order_by("-start").values_list("start", flat=True))
    lost = sorted(starts[15:18])
    btc_15m().filter(start__in=lost).delete()
    get_redis().delete("xcandles:requested:simulator:BTCUSDT:15")

    next_candle_by_stream(sim, runner)
    (tick,) = due_ticks()

    assert tick.status == BotTick.Status.SKIPPED
    assert tick.signal["no_decision"] == {
        "code": NoDecisionCode.GAP.value,
        "have": 16,
        "need": 27,
        "gap_at": lost[0].isoformat(),
    }
    assert not OrderIntent.objects.filter(bot=bot).exists()
    assert get_redis().get("xcandles:requested:simulator:BTCUSDT:15") is not None

    candles_sync()  # what the requested sync (or the next beat) does

    assert btc_15m().filter(start__in=lost).count() == 3
    next_candle_by_stream(sim, runner)
    (tick,) = due_ticks()
    assert tick.status == BotTick.Status.DONE and "no_decision" not in tick.signal


def test_a_bot_on_a_new_pair_decides_on_its_next_candle_close(
    sim: Any, owner: Any, runner: StreamRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Nobody reads BTCUSDT 15m yet. Starting the bot syncs the pair at once (a real worker runs
    the request, no beat), so the first candle the stream stores after the start is decided."""
    monkeypatch.setenv("EXCHANGE_SIMULATOR_PORT", str(sim.port))
    monkeypatch.setenv("EXCHANGE_CANDLE_BACKFILL", "60")
    worker = start_worker(tmp_path)
    try:
        start_bot(owner)
        wait_for(
            lambda: (
                candle_run(environment="simulator", symbol="BTCUSDT", interval="15", need=60).run
                >= 60
            ),
            timeout=30,
            message="the start's sync",
        )
        subscribed(runner)

        next_candle_by_stream(sim, runner)
        (tick,) = due_ticks()

        assert tick.status == BotTick.Status.DONE and "no_decision" not in tick.signal
    finally:
        worker.stop()


def test_each_bot_decides_on_its_own_environments_candles(
    sim: Any, owner: Any, settings: Any
) -> None:
    """A testnet bot and a mainnet bot on BTCUSDT: each tick reads its own environment's candles
    (a rising series on mainnet, a falling one on testnet) and is filled at its own close."""
    settings.EXCHANGE_REST_URLS = {
        **settings.EXCHANGE_REST_URLS,
        "testnet": sim.base_url,
        "mainnet": sim.base_url,
    }
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for env, sign in (("mainnet", 1), ("testnet", -1)):
        Candle.objects.bulk_create(
            Candle(
                environment=env,
                symbol="BTCUSDT",
                interval="15",
                start=t0 + FIFTEEN * i,
                open=p,
                high=p + 1,
                low=p - 1,
                close=p,
                volume=Decimal(1),
            )
            for i in range(40)
            for p in [Decimal(50_000 + sign * 100 * i)]
        )
    bots = {}
    for env in ("mainnet", "testnet"):
        key = ExchangeConnection.objects.create(
            tenant=owner.tenant, environment=env, status=ExchangeConnection.Status.ACTIVE
        )
        bots[env] = start_bot(owner, connection=key, name=env)

    ticks = {tick.bot_id: tick for tick in due_ticks()}

    mainnet, testnet = ticks[bots["mainnet"].pk], ticks[bots["testnet"].pk]
    assert mainnet.signal["target"] == "long" and testnet.signal["target"] == "short"
    assert mainnet.signal["indicators"] != testnet.signal["indicators"]
    fills = {
        i.bot_id: i.avg_fill_price for i in OrderIntent.objects.filter(bot__in=bots.values(), leg=0)
    }
    assert fills[bots["mainnet"].pk] == Decimal(50_000 + 3_900)
    assert fills[bots["testnet"].pk] == Decimal(50_000 - 3_900)
