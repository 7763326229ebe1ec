"""Asyncio WebSocket clients for Bybit's public and private v5 streams.

Each :class:`StreamSocket` runs one connection forever: connect (new connections are rationed by a
shared Redis bucket: Bybit allows 500 per 5 minutes per IP), authenticate (private), subscribe,
then read. A text ``{"op": "ping"}`` goes out every ``ping_seconds`` (Bybit: 20 s) and a silent
connection (no frame for three intervals) is treated as dead. On any failure it reconnects with
exponential, jittered backoff and subscribes again. Messages are decoded and put on ``outbox`` (a
``queue.Queue`` read by the runner's thread); after every successful (re)subscribe it also puts a
``("connected", ...)`` marker so the runner catches up through REST.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import queue
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from tradingsvc.lib.secret import Secret

log = structlog.stdlib.get_logger(__name__)

# Bybit: at most 10 args per subscribe request on spot; we use the same batch everywhere.
SUBSCRIBE_BATCH = 10


@dataclass
class Inbound:
    """One item for the runner: "message", "connected", "disconnected" or "auth_failed"."""

    kind: str
    socket: str
    connection_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    received: float = field(default_factory=time.time)


ConnectGate = Callable[[], int]  # returns ms to wait before a new connection may be opened


class StreamSocket:
    """One WebSocket connection with its topics; ``run`` keeps it alive until ``close``."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        topics: list[str],
        outbox: queue.Queue[Inbound],
        session: aiohttp.ClientSession,
        connection_id: int | None = None,
        api_key: Secret | None = None,
        api_secret: Secret | None = None,
        offset_ms: Callable[[], int] = lambda: 0,
        ping_seconds: float = 20.0,
        connect_gate: ConnectGate | None = None,
        max_backoff: float = 30.0,
        auth_retry_seconds: float = 300.0,
    ) -> None:
        self.name = name
        self.url = url
        self.topics = list(topics)
        self.outbox = outbox
        self.session = session
        self.connection_id = connection_id
        self._api_key = api_key
        self._api_secret = api_secret
        self._offset_ms = offset_ms
        self.ping_seconds = ping_seconds
        self.connect_gate = connect_gate
        self.max_backoff = max_backoff
        self.auth_retry_seconds = auth_retry_seconds
        self.connects = 0
        self.last_message_at: float | None = None
        self._closing = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.last_error = ""

    def __repr__(self) -> str:
        return f"<StreamSocket {self.name}>"

    def is_closing(self) -> bool:
        return self._closing

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    async def run(self) -> None:
        failures = 0
        while not self.is_closing():
            started = time.monotonic()
            try:
                await self._gate()
                await self._session_once()
            except asyncio.CancelledError:
                raise
            except PermissionError as exc:
                # A refused key will not fix itself in seconds, and every attempt spends one of the
                # IP's 500 connections per 5 minutes: wait long, and tell the runner.
                self.last_error = str(exc)[:300]
                log.warning("exchange.stream_auth_refused", socket=self.name, error=self.last_error)
                self.outbox.put(
                    Inbound(
                        "auth_failed", self.name, self.connection_id, {"error": self.last_error}
                    )
                )
                await asyncio.sleep(self.auth_retry_seconds)
                continue
            except Exception as exc:  # any other failure means: reconnect
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.info("exchange.stream_error", socket=self.name, error=self.last_error)
            self.outbox.put(Inbound("disconnected", self.name, self.connection_id))
            if self.is_closing():
                return
            # A connection that lived a while resets the backoff; a flapping one backs off.
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            delay = min(self.max_backoff, 0.5 * 2 ** min(failures, 8))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter

    async def _gate(self) -> None:
        if self.connect_gate is None:
            return
        while True:
            wait_ms = self.connect_gate()
            if wait_ms <= 0:
                return
            await asyncio.sleep(wait_ms / 1000 + random.uniform(0, 0.05))  # noqa: S311

    async def _session_once(self) -> None:
        async with self.session.ws_connect(self.url, heartbeat=None, autoping=True) as ws:
            self._ws = ws
            self.connects += 1
            if self._api_key is not None and self._api_secret is not None:
                await self._auth(ws)
            await self._subscribe(ws)
            self.outbox.put(
                Inbound("connected", self.name, self.connection_id, {"connects": self.connects})
            )
            pinger = asyncio.create_task(self._ping(ws))
            try:
                while True:
                    msg = await ws.receive(timeout=self.ping_seconds * 3)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        if msg.type in (
                            aiohttp.WSMsgType.CLOSE,
                            aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.ERROR,
                        ):
                            return
                        continue
                    self.last_message_at = time.time()
                    data = json.loads(msg.data)
                    if not isinstance(data, dict) or "topic" not in data:
                        continue  # pongs and control replies
                    self.outbox.put(Inbound("message", self.name, self.connection_id, data))
            finally:
                pinger.cancel()
                self._ws = None

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Bybit's heartbeat: a text ping every 20 s (the reader notices a dead socket)."""
        while not ws.closed:
            await asyncio.sleep(self.ping_seconds)
            try:
                await ws.send_str('{"op":"ping"}')
            except (ConnectionError, RuntimeError):
                return

    async def _auth(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        assert self._api_key is not None and self._api_secret is not None  # noqa: S101
        expires = int(time.time() * 1000) + self._offset_ms() + 10_000
        signature = hmac.new(
            self._api_secret.reveal().encode(), f"GET/realtime{expires}".encode(), hashlib.sha256
        ).hexdigest()
        await ws.send_str(
            json.dumps({"op": "auth", "args": [self._api_key.reveal(), expires, signature]})
        )
        reply = await self._control_reply(ws, "auth")
        if not reply.get("success"):
            # The reply text ("Invalid sign", "Invalid apikey") holds no key material.
            raise PermissionError(f"stream authentication refused: {reply.get('ret_msg')}")

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        for i in range(0, len(self.topics), SUBSCRIBE_BATCH):
            batch = self.topics[i : i + SUBSCRIBE_BATCH]
            await ws.send_str(json.dumps({"op": "subscribe", "req_id": f"s{i}", "args": batch}))
            reply = await self._control_reply(ws, "subscribe")
            if not reply.get("success"):
                raise RuntimeError(f"subscribe refused: {reply.get('ret_msg')}")

    async def _control_reply(self, ws: aiohttp.ClientWebSocketResponse, op: str) -> dict[str, Any]:
        """Wait for the reply to ``op``; data messages that arrive first are queued normally."""
        deadline = time.monotonic() + 10
        while True:
            msg = await ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket closed while waiting for the {op} reply")
            data = json.loads(msg.data)
            if not isinstance(data, dict):
                continue
            if data.get("op") == op and "success" in data:
                return data
            if "topic" in data:
                self.last_message_at = time.time()
                self.outbox.put(Inbound("message", self.name, self.connection_id, data))
