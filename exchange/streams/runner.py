"""The stream process of one shard: sockets on an asyncio thread, storage and hand-over here.

Shard assignment is stable and needs no coordination: an exchange account belongs to shard
``account.pk % shards`` and is streamed through its newest working key only (one private stream
per account, however many keys it has), a public symbol to ``crc32(symbol) % shards``. Public
sockets are per market-data environment (a testnet pair is streamed from testnet, a mainnet or
demo-trading pair from mainnet), and each confirmed kline is stored under the environment of the
socket it came on. Every
``EXCHANGE_STREAM_ASSIGNMENT_SECONDS`` the runner re-reads active connections and symbols in use and
opens or closes sockets to match, so starting a bot or adding a key needs no restart.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import queue
import socket
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import structlog
from django.conf import settings
from django.utils import timezone

from exchange import clock, parsing
from exchange.errors import ExchangeError
from exchange.models import Candle, ExchangeConnection, Execution, StreamShard
from exchange.services.executions import execution_store, executions_hand_over
from exchange.services.market_data import market_data_in_use
from exchange.streams.events import (
    KlineEvent,
    OrderEvent,
    PositionEvent,
    TickerEvent,
    WalletEvent,
    dispatch,
)
from exchange.streams.sockets import Inbound, StreamSocket

log = structlog.stdlib.get_logger(__name__)
PRIVATE_TOPICS = ["order", "execution", "position", "wallet"]
CATCHUP_OVERLAP = timedelta(minutes=1)


# Bybit: the args of one public connection may total at most 21,000 characters.
PUBLIC_ARGS_CHARS = 20_000


def _chunks_by_length(topics: list[str], limit: int) -> list[list[str]]:
    """Split topics over as many public connections as the args-length rule needs."""
    chunks: list[list[str]] = [[]]
    size = 0
    for topic in topics:
        if chunks[-1] and size + len(topic) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(topic)
        size += len(topic)
    return chunks


def shard_of_symbol(symbol: str, shards: int) -> int:
    return zlib.crc32(symbol.encode()) % shards


@dataclass
class _Planned:
    name: str
    url: str
    topics: list[str]
    connection_id: int | None
    signature: str  # what the socket is made of; a change means reopen
    environment: str = ""  # public sockets: the market-data environment of their topics


class StreamRunner:
    """Holds the sockets of one shard; call ``start`` then ``step`` (tests) or ``run`` (command)."""

    def __init__(self, shard: int = 0, shards: int = 1) -> None:
        if not 0 <= shard < shards:
            raise ValueError("shard must be in [0, shards)")
        self.shard = shard
        self.shards = shards
        self.outbox: queue.Queue[Inbound] = queue.Queue()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sockets: dict[str, StreamSocket] = {}
        self._tasks: dict[str, concurrent.futures.Future[None]] = {}
        self._planned: dict[str, _Planned] = {}
        self.catchup_pending: dict[int, float] = {}  # connection id -> not before (monotonic)
        self.catchups: dict[int, int] = defaultdict(int)  # completed catch-ups per connection
        self.auth_failures: dict[int, str] = {}  # connection id -> Bybit's refusal text
        self._tickers: dict[str, dict[str, Any]] = {}
        self._last_assignment = 0.0
        self._last_heartbeat = 0.0
        self.messages = 0
        self.reconnects = 0
        self.last_message_at: datetime | None = None
        self.started_at = timezone.now()

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()

        def main() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)

            async def make_session() -> aiohttp.ClientSession:
                # aiohttp's connector allows 100 connections by default; each socket holds one.
                return aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=0),
                    timeout=aiohttp.ClientTimeout(total=None, connect=10),
                )

            self._session = self.loop.run_until_complete(make_session())
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=main, name=f"streams-{self.shard}", daemon=True)
        self._thread.start()
        ready.wait(10)
        self.refresh_assignment()

    def stop(self) -> None:
        if self.loop is None:
            return
        loop = self.loop

        async def shutdown() -> None:
            for sock in self.sockets.values():
                await sock.close()
            for task in self._tasks.values():
                task.cancel()
            if self._session is not None:
                await self._session.close()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self.loop = None

    def run(self, stop: threading.Event) -> None:
        """The command's loop: process arrivals, follow the assignment, beat the heartbeat."""
        while not stop.is_set():
            self.step(timeout=0.5)

    # --- assignment -----------------------------------------------------------------------------
    def _plan(self) -> dict[str, _Planned]:
        plan: dict[str, _Planned] = {}
        # One private stream per exchange account, through its newest working key: a second key
        # of the same account (a rotation under way) would deliver every fill again.
        connections = (
            ExchangeConnection.objects.filter(
                status=ExchangeConnection.Status.ACTIVE, tenant__status="active"
            )
            .exclude(account=None)
            .order_by("account_id", "-created_at", "-pk")
            .only(
                "id",
                "environment",
                "api_key_sealed",
                "api_secret_sealed",
                "tenant_id",
                "account_id",
            )
        )
        speaking: dict[int, ExchangeConnection] = {}
        for conn in connections:
            assert conn.account_id is not None  # noqa: S101 - excluded above
            speaking.setdefault(conn.account_id, conn)
        for account_id, conn in speaking.items():
            if account_id % self.shards != self.shard:
                continue
            name = f"private:{conn.pk}"
            url = settings.EXCHANGE_WS_URLS[conn.environment]["private"] + "/v5/private"
            plan[name] = _Planned(
                name, url, PRIVATE_TOPICS, conn.pk, f"{url}|{hash(conn.api_key_sealed)}"
            )
        by_env: dict[str, list[str]] = defaultdict(list)
        symbols: dict[str, set[str]] = defaultdict(set)
        for env, symbol, interval in market_data_in_use():
            if shard_of_symbol(symbol, self.shards) == self.shard:
                by_env[env].append(f"kline.{interval}.{symbol}")
                symbols[env].add(symbol)
        for env, topics in sorted(by_env.items()):
            topics += [f"tickers.{s}" for s in sorted(symbols[env])]
            url = settings.EXCHANGE_WS_URLS[env]["public"] + "/v5/public/linear"
            for n, chunk in enumerate(_chunks_by_length(topics, PUBLIC_ARGS_CHARS)):
                name = f"public:linear:{env}" if n == 0 else f"public:linear:{env}:{n}"
                plan[name] = _Planned(name, url, chunk, None, f"{url}|{','.join(chunk)}", env)
        return plan

    def refresh_assignment(self) -> None:
        """Open sockets for new assignments, close those no longer ours."""
        assert self.loop is not None  # noqa: S101 - started
        self._last_assignment = time.monotonic()
        plan = self._plan()
        for name in list(self._planned):
            if name not in plan or plan[name].signature != self._planned[name].signature:
                self._close(name)
        for name, planned in plan.items():
            if name not in self.sockets:
                self._open(planned)
        self._planned = plan

    def _open(self, planned: _Planned) -> None:
        from exchange.credentials import credentials_open

        assert self.loop is not None and self._session is not None  # noqa: S101
        key = secret = None
        offset: Callable[[], int] = lambda: 0  # noqa: E731
        if planned.connection_id is not None:
            conn = ExchangeConnection.objects.get(pk=planned.connection_id)
            creds = credentials_open(conn)
            key, secret = creds.api_key, creds.api_secret
            base = settings.EXCHANGE_REST_URLS[conn.environment].rstrip("/")

            def offset() -> int:
                return clock.offset_ms(base, None)

        from exchange.limiter import get_limiter

        limiter = get_limiter()
        per_5min = int(settings.EXCHANGE_STREAM_CONNECTS_PER_5MIN)
        bucket = f"wsconnect:{settings.EXCHANGE_EGRESS_NAME}:{planned.url.split('/v5')[0]}"

        def gate() -> int:
            return limiter.try_acquire_bucket(bucket, limit=per_5min, window_ms=300_000)

        sock = StreamSocket(
            name=planned.name,
            url=planned.url,
            topics=planned.topics,
            outbox=self.outbox,
            session=self._session,
            connection_id=planned.connection_id,
            api_key=key,
            api_secret=secret,
            offset_ms=offset,
            ping_seconds=float(settings.EXCHANGE_STREAM_PING_SECONDS),
            connect_gate=gate,
        )
        self.sockets[planned.name] = sock
        self._tasks[planned.name] = asyncio.run_coroutine_threadsafe(sock.run(), self.loop)

    def _close(self, name: str) -> None:
        sock = self.sockets.pop(name, None)
        task = self._tasks.pop(name, None)
        if sock is not None and self.loop is not None:
            asyncio.run_coroutine_threadsafe(sock.close(), self.loop)
        if task is not None:
            task.cancel()
        self._planned.pop(name, None)

    # --- processing -----------------------------------------------------------------------------
    def step(self, timeout: float = 0.2) -> int:
        """Process what arrived (waiting up to ``timeout`` for the first item); returns the count."""
        items: list[Inbound] = []
        try:
            items.append(self.outbox.get(timeout=timeout))
            while len(items) < 5000:
                items.append(self.outbox.get_nowait())
        except queue.Empty:
            pass
        executions: dict[int, list[Any]] = defaultdict(list)
        for item in items:
            if item.kind == "connected":
                if item.connection_id is not None:
                    self.catchup_pending[item.connection_id] = 0.0
                if item.data.get("connects", 1) > 1:
                    self.reconnects += 1
            elif item.kind == "auth_failed" and item.connection_id is not None:
                self.auth_failures[item.connection_id] = str(item.data.get("error", ""))
            elif item.kind == "message":
                self.messages += 1
                self.last_message_at = datetime.fromtimestamp(item.received, tz=UTC)
                self._message(item, executions)
        for connection_id, rows in executions.items():
            execution_store(connection_id=connection_id, executions=rows, source="stream")
        self._catch_up()
        if executions or self.catchup_pending == {}:
            executions_hand_over(connection_ids=self._private_ids())
        now = time.monotonic()
        if now - self._last_assignment > float(settings.EXCHANGE_STREAM_ASSIGNMENT_SECONDS):
            self.refresh_assignment()
        if now - self._last_heartbeat > 5:
            self._heartbeat()
        return len(items)

    def _private_ids(self) -> list[int]:
        return [s.connection_id for s in self.sockets.values() if s.connection_id is not None]

    def _message(self, item: Inbound, executions: dict[int, list[Any]]) -> None:
        topic = str(item.data.get("topic", ""))
        data = item.data.get("data")
        cid = item.connection_id
        try:
            if cid is not None:
                rows = data if isinstance(data, list) else []
                if topic == "execution":
                    executions[cid] += [parsing.execution(r) for r in rows]
                elif topic == "order":
                    for r in rows:
                        dispatch(OrderEvent(cid, parsing.order(r)))
                elif topic == "position":
                    for r in rows:
                        dispatch(PositionEvent(cid, parsing.position(r)))
                elif topic == "wallet":
                    dispatch(WalletEvent(cid, parsing.wallet_balance({"list": rows})))
            elif topic.startswith("kline."):
                self._kline(
                    self._environment_of(item), topic, data if isinstance(data, list) else []
                )
            elif topic.startswith("tickers."):
                self._ticker(self._environment_of(item), topic, item.data)
        except (KeyError, ValueError, TypeError, ArithmeticError):
            log.warning("exchange.stream_message_unreadable", topic=topic, exc_info=True)

    def _environment_of(self, item: Inbound) -> str:
        planned = self._planned.get(item.socket)
        if planned is not None and planned.environment:
            return planned.environment
        return item.socket.split(":")[2]  # "public:linear:<env>[:n]", closed since it was sent

    def _kline(self, environment: str, topic: str, rows: list[dict[str, Any]]) -> None:
        _, interval, symbol = topic.split(".", 2)
        for r in rows:
            k = parsing.kline(
                symbol,
                interval,
                [
                    r["start"],
                    r["open"],
                    r["high"],
                    r["low"],
                    r["close"],
                    r["volume"],
                    r["turnover"],
                ],
            )
            confirmed = bool(r.get("confirm"))
            if confirmed:
                Candle.objects.update_or_create(
                    environment=environment,
                    symbol=symbol,
                    interval=interval,
                    start=k.start,
                    defaults={
                        "open": k.open,
                        "high": k.high,
                        "low": k.low,
                        "close": k.close,
                        "volume": k.volume,
                        "turnover": k.turnover,
                    },
                )
            dispatch(KlineEvent(k, confirmed, environment))

    def _ticker(self, environment: str, topic: str, message: dict[str, Any]) -> None:
        from exchange.selectors import ticker_key
        from tradingsvc.lib.redis import get_redis

        symbol = topic.split(".", 1)[1]
        data = message.get("data") or {}
        slot = f"{environment}:{symbol}"
        if message.get("type") == "snapshot" or slot not in self._tickers:
            self._tickers[slot] = dict(data)
        else:
            self._tickers[slot].update(data)
        merged = self._tickers[slot]
        get_redis().set(ticker_key(environment, symbol), json.dumps(merged), ex=120)
        dispatch(TickerEvent(parsing.ticker(merged), environment))

    def _catch_up(self) -> None:
        """REST catch-up of executions for connections that just (re)connected."""
        from exchange.gateway import gateway_for_connection

        now = time.monotonic()
        for cid, not_before in list(self.catchup_pending.items()):
            if not_before > now:
                continue
            try:
                conn = ExchangeConnection.objects.get(pk=cid)
            except ExchangeConnection.DoesNotExist:
                self.catchup_pending.pop(cid, None)
                continue
            last = (
                Execution.objects.filter(account_id=conn.account_id)
                .order_by("-exec_time")
                .values_list("exec_time", flat=True)
                .first()
            )
            hours = float(settings.EXCHANGE_STREAM_CATCHUP_HOURS)
            since = (last - CATCHUP_OVERLAP) if last else timezone.now() - timedelta(hours=hours)
            try:
                found = gateway_for_connection(conn).executions_since(since)
            except ExchangeError as exc:
                log.warning("exchange.stream_catchup_failed", connection_id=cid, error=str(exc))
                self.catchup_pending[cid] = now + 5
                continue
            execution_store(connection_id=cid, executions=found, source="rest")
            self.catchup_pending.pop(cid, None)
            self.catchups[cid] += 1
            log.info("exchange.stream_caught_up", connection_id=cid, fetched=len(found))

    def _heartbeat(self) -> None:
        self._last_heartbeat = time.monotonic()
        StreamShard.objects.update_or_create(
            shard=self.shard,
            shards=self.shards,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": self.started_at,
                "heartbeat_at": timezone.now(),
                "last_message_at": self.last_message_at,
                "private_connections": sum(
                    1 for s in self.sockets.values() if s.connection_id is not None
                ),
                "public_topics": sum(
                    len(s.topics) for s in self.sockets.values() if s.connection_id is None
                ),
                "reconnects": self.reconnects,
                "messages": self.messages,
            },
        )
