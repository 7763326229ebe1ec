"""The three WebSocket endpoints: /v5/public/linear, /v5/private and /v5/trade.

Control replies use each endpoint's own shape (docs/v5/websocket): public replies and pongs are
``{success, ret_msg, conn_id, req_id, op}``, private pongs ``{req_id, op: "pong", args, conn_id}``,
order-entry replies ``{reqId, retCode, retMsg, op, data, retExtInfo, header, connId}``. ``req_id`` is
always echoed because clients (pybit) look their subscriptions up by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from exchange.simulator import auth, bybit_json
from exchange.simulator.clock import SimClock
from exchange.simulator.engine import Engine
from exchange.simulator.errors import BybitError
from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.market_data import INTERVALS, Candle

BOOK_DEPTHS = (1, 50, 200, 500, 1000)
SUBSCRIBE_REPLY_DELAY = 0.02  # seconds; also used for order-entry acks
PRIVATE_TOPICS = ("order", "execution", "position", "wallet")
TRADE_OPS = {
    "order.create": "/v5/order/create",
    "order.amend": "/v5/order/amend",
    "order.cancel": "/v5/order/cancel",
    "order.create-batch": "/v5/order/create-batch",
    "order.amend-batch": "/v5/order/amend-batch",
    "order.cancel-batch": "/v5/order/cancel-batch",
}


@dataclass(eq=False)
class Conn:
    """One client socket and what it asked for."""

    ws: web.WebSocketResponse
    kind: str
    conn_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    uid: int | None = None
    topics: set[str] = field(default_factory=set)
    req_ids: set[str] = field(default_factory=set)
    kline_sent: dict[str, int] = field(default_factory=dict)
    last_push: dict[str, Any] = field(default_factory=dict)
    ticker_sent: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def send(self, message: dict[str, Any]) -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self.ws.send_str(json.dumps(message))


def kline_item(c: Candle, interval: str, end: int, confirm: bool, ts: int) -> dict[str, Any]:
    turnover = c.volume * (c.open + c.high + c.low + c.close) / 4
    return {
        "start": c.start,
        "end": end - 1,
        "interval": interval,
        "open": bybit_json.s(c.open),
        "close": bybit_json.s(c.close),
        "high": bybit_json.s(c.high),
        "low": bybit_json.s(c.low),
        "volume": bybit_json.s(c.volume),
        "turnover": bybit_json.s(turnover.quantize(Decimal("0.0001"))),
        "confirm": confirm,
        "timestamp": ts,
    }


def valid_public_topic(topic: str) -> bool:
    parts = topic.split(".")
    if len(parts) == 2 and parts[0] in ("tickers", "publicTrade"):
        return parts[1] in INSTRUMENTS
    if len(parts) == 3 and parts[0] == "kline":
        return parts[1] in INTERVALS and parts[2] in INSTRUMENTS
    if len(parts) == 3 and parts[0] == "orderbook":
        return parts[1].isdigit() and int(parts[1]) in BOOK_DEPTHS and parts[2] in INSTRUMENTS
    return False


class Host(Protocol):
    """What the sockets need from the process that owns them (``server.Simulator``).

    Stated here, not imported, so this module sits below the server and the two form no cycle.
    """

    clock: SimClock
    engine: Engine

    def ticker(self, symbol: str) -> dict[str, Any]: ...

    def book(self, symbol: str, depth: int) -> dict[str, Any]: ...

    async def trade_op(self, conn: Conn, op: str, data: dict[str, Any]) -> dict[str, Any]: ...


class Hub:
    """All open sockets; pushes public data on every clock tick and private events per account."""

    def __init__(self, sim: Host) -> None:
        self.sim = sim
        self.conns: set[Conn] = set()
        self.by_uid: dict[int, set[Conn]] = defaultdict(set)
        self._pending: set[asyncio.Task[None]] = set()

    # --- connection handlers ------------------------------------------------------------------
    async def handle(self, request: web.Request, kind: str) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = Conn(ws=ws, kind=kind)
        self.conns.add(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if not isinstance(data, dict):
                    continue
                if kind == "trade":
                    await self._on_trade(conn, data)
                else:
                    await self._on_stream(conn, data)
        finally:
            self.conns.discard(conn)
            if conn.uid is not None:
                self.by_uid[conn.uid].discard(conn)
        return ws

    async def _on_stream(self, conn: Conn, data: dict[str, Any]) -> None:
        op = data.get("op")
        req_id = data.get("req_id")
        base: dict[str, Any] = {"success": True, "ret_msg": "", "conn_id": conn.conn_id}
        if req_id is not None:
            base["req_id"] = req_id
        elif conn.kind == "public":
            base["req_id"] = ""
        if op == "ping":
            if conn.kind == "public":
                await conn.send({**base, "ret_msg": "pong", "op": "ping"})
            else:
                pong: dict[str, Any] = {"op": "pong", "args": [str(self.sim.clock.server_ms())]}
                if req_id is not None:
                    pong = {"req_id": req_id, **pong}
                await conn.send({**pong, "conn_id": conn.conn_id})
            return
        if op == "auth" and conn.kind == "private":
            args = data.get("args") or []
            key = self.sim.engine.find_key(str(args[0])) if args else None
            err = auth.check_ws(
                key,
                args[1] if len(args) > 1 else None,
                args[2] if len(args) > 2 else None,
                self.sim.clock.server_ms(),
            )
            if err is None and key is not None:
                conn.uid = key.uid
                self.by_uid[key.uid].add(conn)
                await conn.send({**base, "op": "auth"})
            else:
                await conn.send({**base, "success": False, "ret_msg": err, "op": "auth"})
            return
        if op in ("subscribe", "unsubscribe"):
            # Answer after a network-like round trip: pybit records a subscription only after
            # sending it, so an instant loopback reply can overtake it and kill its socket.
            await asyncio.sleep(SUBSCRIBE_REPLY_DELAY)
            args = [str(a) for a in data.get("args") or []]
            bad = [a for a in args if not self._topic_ok(conn, a)]
            if conn.kind == "private" and conn.uid is None:
                await conn.send(
                    {**base, "success": False, "ret_msg": "Request not authorized", "op": op}
                )
                return
            if bad:
                await conn.send(
                    {
                        **base,
                        "success": False,
                        "ret_msg": f"error:handler not found,topic:{bad[0]}",
                        "op": op,
                    }
                )
                return
            if op == "subscribe":
                dup = [a for a in args if a in conn.topics]
                if dup:
                    await conn.send(
                        {
                            **base,
                            "success": False,
                            "ret_msg": f"error:already subscribed,topic:{dup[0]}",
                            "op": op,
                        }
                    )
                    return
                conn.topics.update(args)
                await conn.send({**base, "op": op})
                if conn.kind == "public":
                    for topic in args:
                        await self._initial_public(conn, topic)
            else:
                conn.topics.difference_update(args)
                await conn.send({**base, "op": op})
            return
        await conn.send(
            {**base, "success": False, "ret_msg": f"error:unknown op {op}", "op": str(op)}
        )

    @staticmethod
    def _topic_ok(conn: Conn, topic: str) -> bool:
        if conn.kind == "public":
            return valid_public_topic(topic)
        name = topic.split(".")[0]
        return name in PRIVATE_TOPICS and topic in (name, f"{name}.linear", f"{name}.all")

    async def _on_trade(self, conn: Conn, data: dict[str, Any]) -> None:
        op = str(data.get("op", ""))
        req_id = data.get("reqId")
        now = self.sim.clock.server_ms()
        if op == "ping":
            await conn.send(
                {
                    "retCode": 0,
                    "retMsg": "OK",
                    "op": "pong",
                    "data": [str(now)],
                    "connId": conn.conn_id,
                }
            )
            return
        if op == "auth":
            args = data.get("args") or []
            if conn.uid is not None:
                code, msg = 20001, "repeat auth"
            else:
                key = self.sim.engine.find_key(str(args[0])) if args else None
                err = auth.check_ws(
                    key, args[1] if len(args) > 1 else None, args[2] if len(args) > 2 else None, now
                )
                if key is None:
                    code, msg = 10004, "invalid sign"
                elif err is None:
                    code, msg = 0, "OK"
                    conn.uid = key.uid
                else:
                    code, msg = (
                        (10001, "param error")
                        if "expire" in err or "Params" in err
                        else (10004, "invalid sign")
                    )
            reply: dict[str, Any] = {
                "retCode": code,
                "retMsg": msg,
                "op": "auth",
                "connId": conn.conn_id,
            }
            if req_id is not None:
                reply = {"reqId": req_id, **reply}
            await conn.send(reply)
            return
        reply = await self.sim.trade_op(conn, op, data)
        # Like subscribe replies, order-entry acks travel a network-like round trip: pybit registers
        # the reqId callback only after sending. A task keeps the socket reading meanwhile.
        task = asyncio.create_task(self._send_later(conn, reply))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send_later(self, conn: Conn, message: dict[str, Any]) -> None:
        await asyncio.sleep(SUBSCRIBE_REPLY_DELAY)
        await conn.send(message)

    # --- pushes -------------------------------------------------------------------------------
    async def _initial_public(self, conn: Conn, topic: str) -> None:
        kind, *rest = topic.split(".")
        sym = rest[-1]
        now = self.sim.clock.now()
        if kind == "kline":
            await self._push_kline(conn, topic, rest[0], sym, now, initial=True)
        elif kind == "tickers":
            data = self.sim.ticker(sym)
            conn.ticker_sent[topic] = data
            await conn.send(
                {"topic": topic, "type": "snapshot", "data": data, "cs": now // 10, "ts": now}
            )
        elif kind == "orderbook":
            await self._push_book(conn, topic, int(rest[0]), sym, now, initial=True)

    async def _push_kline(
        self, conn: Conn, topic: str, interval: str, sym: str, now: int, initial: bool = False
    ) -> None:
        market = self.sim.engine.market
        start, end = market.bucket(interval, now)
        items = []
        last_start = conn.kline_sent.get(topic)
        if not initial and last_start is not None and last_start < start:
            s = last_start
            closed: list[dict[str, Any]] = []
            while s < start and len(closed) < 1000:
                s_start, s_end = market.bucket(interval, s)
                c = market.candle(sym, s_start, s_end, now)
                if c is not None:
                    closed.append(kline_item(c, interval, s_end, True, now))
                s = s_end
            items.extend(closed)
        c = market.candle(sym, start, end, now)
        if c is not None and (items or initial or conn.last_push.get(topic) != c):
            # An unchanged forming candle is not pushed again on every clock tick.
            items.append(kline_item(c, interval, end, False, now))
            conn.last_push[topic] = c
        conn.kline_sent[topic] = start
        for item in items:
            await conn.send({"topic": topic, "data": [item], "ts": now, "type": "snapshot"})

    async def _push_book(
        self, conn: Conn, topic: str, depth: int, sym: str, now: int, initial: bool = False
    ) -> None:
        # The synthetic book only changes with the price or the minute: skip identical snapshots.
        state = (self.sim.engine.last[sym], now // 60_000)
        if not initial and conn.last_push.get(topic) == state:
            return
        conn.last_push[topic] = state
        data = self.sim.book(sym, min(depth, 500))
        data.pop("ts")
        cts = data.pop("cts")
        await conn.send({"topic": topic, "type": "snapshot", "ts": now, "data": data, "cts": cts})

    async def push_public(self, trades: list[tuple[str, int, str, Any, Any, str]]) -> None:
        """One clock tick's worth of public data to every subscriber."""
        now = self.sim.clock.now()
        for conn in [c for c in self.conns if c.kind == "public" and c.topics]:
            for topic in sorted(conn.topics):
                kind, *rest = topic.split(".")
                sym = rest[-1]
                if kind == "kline":
                    await self._push_kline(conn, topic, rest[0], sym, now)
                elif kind == "tickers":
                    data = self.sim.ticker(sym)
                    old = conn.ticker_sent.get(topic, {})
                    delta = {k: v for k, v in data.items() if old.get(k) != v}
                    conn.ticker_sent[topic] = data
                    if delta:
                        await conn.send(
                            {
                                "topic": topic,
                                "type": "delta",
                                "data": {"symbol": sym, **delta},
                                "cs": now // 10,
                                "ts": now,
                            }
                        )
                elif kind == "orderbook":
                    await self._push_book(conn, topic, int(rest[0]), sym, now)
                elif kind == "publicTrade":
                    mine = [t for t in trades if t[0] == sym]
                    if mine:
                        await conn.send(
                            {
                                "topic": topic,
                                "type": "snapshot",
                                "ts": now,
                                "data": [
                                    {
                                        "T": ts,
                                        "s": s,
                                        "S": side,
                                        "v": bybit_json.s(q),
                                        "p": bybit_json.s(px),
                                        "L": "PlusTick" if side == "Buy" else "MinusTick",
                                        "i": tid,
                                        "BT": False,
                                        "seq": ts // 10,
                                    }
                                    for s, ts, side, q, px, tid in mine[-100:]
                                ],
                            }
                        )

    def has_private(self, uid: int) -> bool:
        return any(c.kind == "private" for c in self.by_uid.get(uid, ()))

    async def push_private(self, uid: int, topic: str, items: list[dict[str, Any]]) -> None:
        conns = [c for c in self.by_uid.get(uid, ()) if c.kind == "private"]
        if not conns:
            return
        now = self.sim.clock.server_ms()
        for conn in conns:
            names = {t.split(".")[0] for t in conn.topics}
            if topic not in names:
                continue
            await conn.send(
                {"id": f"{uid}{uuid.uuid4()}", "topic": topic, "creationTime": now, "data": items}
            )

    async def disconnect(self, kind: str, uid: int | None) -> int:
        """Close sockets now (a chaos fault); returns how many were closed."""
        victims = [
            c
            for c in self.conns
            if (kind == "all" or c.kind == kind) and (uid is None or c.uid == uid)
        ]
        for conn in victims:
            await conn.ws.close(code=1001, message=b"simulated disconnect")
        return len(victims)


def trade_error(exc: BybitError) -> tuple[int, str]:
    return exc.code, exc.message
