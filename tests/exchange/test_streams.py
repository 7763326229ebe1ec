"""Streams: private executions stored exactly once across a dropped connection, and handed over."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Tenant
from exchange.credentials import credentials_seal
from exchange.gateway import gateway_for_connection
from exchange.models import ExchangeConnection, Execution, StreamShard
from exchange.streams import events
from exchange.streams.runner import StreamRunner
from exchange.types import OrderRequest
from tests.factories import connection_with_account

pytestmark = pytest.mark.django_db

HANDED: list[str] = []


def record(event: events.StreamEvent) -> None:
    """The engine's hook, as a test stand-in: remembers every execution it was given."""
    if isinstance(event, events.ExecutionEvent):
        HANDED.append(event.execution.exec_id)


def make_connection(sim: Any, usdt: str = "100000") -> tuple[ExchangeConnection, int]:
    uid, key, secret = sim.create_account(usdt=usdt)
    tenant = Tenant.objects.create(name=f"t-{uid}")
    conn = connection_with_account(
        tenant=tenant,
        environment="simulator",
        status=ExchangeConnection.Status.ACTIVE,
        exchange_uid=str(uid),
    )
    credentials_seal(conn, api_key=key, api_secret=secret)
    return conn, uid


def pump(runner: StreamRunner, until: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            state = {
                name: (sock.connects, sock.last_error) for name, sock in runner.sockets.items()
            }
            raise AssertionError(
                f"stream condition not met in time: sockets {state}, "
                f"catch-ups {dict(runner.catchups)}, pending {runner.catchup_pending}, "
                f"executions {Execution.objects.count()}"
            )
        runner.step(timeout=0.05)


@pytest.fixture
def handlers(settings: Any) -> Any:
    settings.EXCHANGE_STREAM_HANDLERS = ["tests.exchange.test_streams.record"]
    HANDED.clear()
    yield HANDED


def test_executions_survive_a_dropped_private_stream_exactly_once(
    sim: Any, settings: Any, handlers: list[str]
) -> None:
    """Market orders fill every 80 ms while the simulator cuts the private socket: after the
    reconnect and the REST catch-up the database holds exactly the exchange's fills, each once,
    and the engine's hook received each exactly once."""
    conn, uid = make_connection(sim)
    runner = StreamRunner(0, 1)
    runner.start()
    try:
        pump(runner, lambda: runner.catchups[conn.pk] >= 1)
        gw = gateway_for_connection(conn)
        placed: list[str] = []

        def trade() -> None:
            for i in range(12):
                link = f"s-{uuid.uuid4().hex[:16]}"
                gw.place_order(
                    OrderRequest(
                        symbol="BTCUSDT",
                        side="Buy" if i % 2 == 0 else "Sell",
                        order_type="Market",
                        qty=Decimal("0.001"),
                        order_link_id=link,
                    )
                )
                placed.append(link)
                if i == 3:
                    sim.admin("POST", "/sim/ws/disconnect", {"kind": "private", "uid": uid})
                time.sleep(0.08)

        trader = threading.Thread(target=trade)
        trader.start()
        pump(runner, lambda: not trader.is_alive(), timeout=30)
        trader.join()
        pump(
            runner,
            lambda: (
                runner.catchups[conn.pk] >= 2
                and Execution.objects.filter(connection=conn).count() >= 12
            ),
        )
        for _ in range(10):
            runner.step(timeout=0.05)

        first = Execution.objects.filter(connection=conn).order_by("exec_time").first()
        assert first is not None
        since = first.exec_time - timedelta(minutes=5)
        on_exchange = {e.exec_id for e in gw.executions_since(since)}
        stored = list(Execution.objects.filter(connection=conn).values_list("exec_id", flat=True))
        assert len(placed) == 12
        assert len(on_exchange) == 12
        assert sorted(stored) == sorted(on_exchange)  # each once, none missing
        sources = set(Execution.objects.filter(connection=conn).values_list("source", flat=True))
        assert "rest" in sources, "some fills were only recovered by the catch-up"
        assert sorted(handlers) == sorted(on_exchange)  # handed over exactly once each
        assert not Execution.objects.filter(connection=conn, handled_at=None).exists()
        runner._heartbeat()
        shard = StreamShard.objects.get(shard=0, shards=1)
        assert shard.private_connections >= 1 and shard.reconnects >= 1
        assert shard.last_message_at is not None
    finally:
        runner.stop()


def test_public_klines_and_tickers_for_symbols_in_use(sim: Any, settings: Any) -> None:
    """A subscribed pair gets a public socket: confirmed klines land in Candle, tickers in Redis;
    the assignment follows connections being activated and retired."""
    from exchange.models import Candle
    from exchange.selectors import ticker_latest
    from exchange.services.market_data import market_data_subscribe
    from tradingsvc.lib.redis import get_redis

    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    settings.EXCHANGE_STREAM_PING_SECONDS = 0.3  # the pinger runs, pongs are ignored
    get_redis().delete("xticker:simulator:ETHUSDT")
    market_data_subscribe(environment="simulator", symbol="ETHUSDT", interval="1", consumer="bot:1")
    runner = StreamRunner(0, 1)
    runner.start()
    try:
        pump(
            runner,
            lambda: runner.sockets["public:linear:simulator"].connects >= 1 and runner.messages > 0,
        )
        sim.advance(minutes=3)
        pump(
            runner,
            lambda: (
                Candle.objects.filter(symbol="ETHUSDT", interval="1").exists()
                and get_redis().get("xticker:simulator:ETHUSDT") is not None
            ),
        )
        ticker = ticker_latest("ETHUSDT", environment="simulator")
        assert ticker is not None and ticker.last_price > 0
        assert runner.sockets["public:linear:simulator"].connects == 1  # pings kept it alive

        # A key activated later joins without a restart; a retired one leaves.
        conn, _ = make_connection(sim)
        runner.refresh_assignment()
        pump(runner, lambda: runner.catchups[conn.pk] >= 1)
        ExchangeConnection.objects.filter(pk=conn.pk).update(
            status=ExchangeConnection.Status.RETIRED
        )
        runner.refresh_assignment()
        assert f"private:{conn.pk}" not in runner.sockets
    finally:
        runner.stop()
    assert StreamRunner(1, 2)._plan().keys() | StreamRunner(0, 2)._plan().keys() == {
        "public:linear:simulator"
    }


def test_a_refused_key_backs_off_and_is_reported(sim: Any) -> None:
    """A key the exchange refuses on the private stream is reported, not hammered."""
    conn, _ = make_connection(sim)
    credentials_seal(conn, api_key="NOSUCHKEY0001", api_secret="x" * 36)
    runner = StreamRunner(0, 1)
    runner.start()
    try:
        pump(runner, lambda: conn.pk in runner.auth_failures)
        time.sleep(0.5)
        assert runner.sockets[f"private:{conn.pk}"].connects == 1
        assert "Invalid apikey" in runner.auth_failures[conn.pk]
    finally:
        runner.stop()


def test_public_topics_are_split_under_bybits_args_length() -> None:
    """Bybit allows 21,000 characters of args per public connection; more topics open more."""
    from exchange.streams.runner import _chunks_by_length

    topics = [f"kline.1.SYMBOL{i:05d}USDT" for i in range(2000)]
    chunks = _chunks_by_length(topics, 20_000)
    assert len(chunks) > 1
    assert all(sum(len(t) for t in c) <= 20_000 for c in chunks)
    assert [t for c in chunks for t in c] == topics


def test_a_fill_whose_push_was_cut_off_is_recovered_once(
    sim: Any, settings: Any, handlers: list[str]
) -> None:
    """The simulator closes the private socket exactly when an execution push is due (twice): the
    fill happened but its push is lost. The catch-up after each reconnect stores it, once."""
    conn, uid = make_connection(sim)
    runner = StreamRunner(0, 1)
    runner.start()
    try:
        pump(runner, lambda: runner.catchups[conn.pk] >= 1)
        gw = gateway_for_connection(conn)
        sim.fault("ws_drop_push", uid=uid, path="execution", count=2)
        for i in range(6):
            gw.place_order(
                OrderRequest(
                    symbol="ETHUSDT",
                    side="Buy" if i % 2 == 0 else "Sell",
                    order_type="Market",
                    qty=Decimal("0.01"),
                    order_link_id=f"d-{uuid.uuid4().hex[:16]}",
                )
            )
            if i in (0, 3):
                # Let the runner notice the cut and reconnect before the next fills.
                before = runner.catchups[conn.pk]

                def reconnected(before: int = before) -> bool:
                    return runner.catchups[conn.pk] > before

                pump(runner, reconnected)
        pump(runner, lambda: Execution.objects.filter(connection=conn).count() >= 6)
        for _ in range(10):
            runner.step(timeout=0.05)
        first = Execution.objects.filter(connection=conn).order_by("exec_time").first()
        assert first is not None
        on_exchange = {
            e.exec_id for e in gw.executions_since(first.exec_time - timedelta(minutes=5))
        }
        stored = list(Execution.objects.filter(connection=conn).values_list("exec_id", flat=True))
        assert len(on_exchange) == 6 and sorted(stored) == sorted(on_exchange)
        assert runner.sockets[f"private:{conn.pk}"].connects >= 3
        assert Execution.objects.filter(connection=conn, source="rest").count() >= 2
        assert sorted(handlers) == sorted(on_exchange)
    finally:
        runner.stop()
