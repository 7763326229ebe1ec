"""The simulator process: one aiohttp app serving REST, WebSocket and the control API on one port.

A request goes: IP limit -> route -> auth -> per-UID limit -> faults -> catch the market up to the
clock -> handler -> flush to SQLite -> push WebSocket events -> answer in Bybit's envelope.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import logging
import os
import signal
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import uvloop
from aiohttp import web

from exchange.simulator import auth, bybit_json, control_api, rest
from exchange.simulator.clock import SimClock
from exchange.simulator.engine import Engine
from exchange.simulator.errors import SERVER_ERROR, TOO_MANY_VISITS, BybitError, error
from exchange.simulator.faults import PUSH_KINDS, Faults
from exchange.simulator.market_data import MarketData
from exchange.simulator.ratelimit import RateLimiter
from exchange.simulator.records import ApiKey
from exchange.simulator.store import Store
from exchange.simulator.ws import TRADE_OPS, Conn, Hub

log = logging.getLogger("exchange.simulator")
TICK_SECONDS = 0.1
# Request bodies keep their numbers exact; one decoder for all (json.loads builds one per call
# when given parse_float).
_BODY_DECODER = json.JSONDecoder(parse_float=Decimal)


class Simulator:
    """Everything one process serves, wired together."""

    def __init__(self, state: str, clock_mode: str, speed: float = 1.0) -> None:
        self.store = Store(state)
        saved_sim = self.store.get_meta("sim_now")
        saved_offset = self.store.get_meta("offset")
        self.clock = SimClock.start(
            clock_mode,
            speed,
            int(saved_sim) if saved_sim else None,
            int(saved_offset) if saved_offset else None,
        )
        self.store.set_meta("offset", str(self.clock.offset))
        self.engine = Engine(self.store, self.clock, MarketData.load(self.clock.offset))
        self.limits = RateLimiter()
        self.faults = Faults()
        self.hub = Hub(self)
        self._ticker: asyncio.Task[None] | None = None
        self._last_tick: dict[str, Decimal] = {}
        self._tick_dir: dict[str, str] = {}

    # --- state changes ------------------------------------------------------------------------
    async def tick(self) -> None:
        """Catch the market up to the clock, persist, and push what happened."""
        now = self.clock.now()
        end = self.engine.market.replay_end()
        self.engine.advance_to(min(now, end))
        await self.commit()

    async def commit(self) -> None:
        self.store.set_meta("sim_now", str(self.clock.now()))
        self.engine.flush()
        trades, self.engine.public_trades = self.engine.public_trades, []
        dropped: set[int] = set()
        for uid, topic, records in self.engine.drain_events():
            if uid in dropped or not self.hub.has_private(uid):
                continue  # nobody listening: do not build the push at all
            if self.faults.match(uid, topic, PUSH_KINDS):
                dropped.add(uid)
                await self.hub.disconnect("private", uid)
                continue
            await self.hub.push_private(uid, topic, self._private_items(uid, topic, records))
        self._update_tick_directions()
        await self.hub.push_public(trades)

    def _private_items(self, uid: int, topic: str, records: list[Any]) -> list[dict[str, Any]]:
        if topic == "order":
            return [bybit_json.order_json(o, "ws") for o in records]
        if topic == "execution":
            return [bybit_json.execution_json(x, ws=True) for x in records]
        if topic == "position":
            eng = self.engine
            return [
                bybit_json.position_json(
                    p, eng.last[p.symbol], eng.liq_price(uid, p.symbol), ws=True
                )
                for p in records
            ]
        return [rest.wallet_item(self.engine, uid)]

    def ticker(self, symbol: str) -> dict[str, Any]:
        data = rest.ticker_data(self.engine, symbol)
        for name in (
            "predictedDeliveryPrice",
            "basisRate",
            "deliveryFeeRate",
            "deliveryTime",
            "basis",
            "basisRateYear",
        ):
            data.pop(name, None)
        data["tickDirection"] = self._tick_dir.get(symbol, "ZeroPlusTick")
        return data

    def _update_tick_directions(self) -> None:
        """Bybit's tickDirection: Plus/Minus on a move, ZeroPlus/ZeroMinus while unchanged."""
        for symbol, last in self.engine.last.items():
            before = self._last_tick.get(symbol, last)
            if last != before:
                self._tick_dir[symbol] = "PlusTick" if last > before else "MinusTick"
            elif self._tick_dir.get(symbol) in ("PlusTick", "MinusTick"):
                self._tick_dir[symbol] = "Zero" + self._tick_dir[symbol]
            self._last_tick[symbol] = last

    def book(self, symbol: str, depth: int) -> dict[str, Any]:
        return rest.book_data(self.engine, symbol, depth)

    async def disconnect(self, kind: str, uid: int | None) -> int:
        """Close sockets of one kind (and account) now; the control API's ``/sim/ws/disconnect``."""
        return await self.hub.disconnect(kind, uid)

    async def run_ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("clock tick failed")

    # --- REST ---------------------------------------------------------------------------------
    def envelope(self, result: Any, code: int = 0, msg: str = "OK", ext: Any = None) -> str:
        return json.dumps(
            {
                "retCode": code,
                "retMsg": msg,
                "result": result,
                "retExtInfo": ext if ext is not None else {},
                "time": self.clock.server_ms(),
            }
        )

    def _answer(self, body: str, headers: dict[str, str], status: int = 200) -> web.Response:
        headers = {**headers, "Timenow": str(self.clock.server_ms())}
        return web.Response(
            text=body, status=status, content_type="application/json", headers=headers
        )

    async def handle_v5(self, request: web.Request) -> web.StreamResponse:
        now = self.clock.server_ms()
        ip = request.remote or "?"
        if not self.limits.hit_ip(ip, now):
            return web.Response(status=403, text="403, access too frequent")
        path = request.path
        method = request.method
        raw_path = request.raw_path
        raw_query = raw_path.split("?", 1)[1] if "?" in raw_path else ""
        body = await request.text() if method == "POST" else ""
        public = rest.PUBLIC.get((method, path))
        private = rest.PRIVATE.get((method, path))
        if public is None and private is None:
            return self._answer(self.envelope({}, 10017, "Route not found."), {}, status=404)
        headers: dict[str, str] = {}
        key: ApiKey | None = None
        try:
            params = self._params(method, raw_query, body)
            if private is not None:
                payload = raw_query if method == "GET" else body
                key = auth.check_rest(request.headers, payload, now, self.engine.find_key)
                allowed, headers = self.limits.hit_uid(key.uid, path, now, self._cost(path, params))
                if not allowed:
                    raise error(TOO_MANY_VISITS)
                if private[1] and key.read_only:
                    raise error(10005)
        except BybitError as exc:
            return self._answer(self.envelope({}, exc.code, exc.message), headers)
        uid = key.uid if key else None
        drop = None
        for fault in self.faults.match(uid, path):
            if fault.kind == "latency":
                await asyncio.sleep(fault.ms / 1000)
            elif fault.kind == "http_5xx":
                return web.Response(status=fault.status, text=f"{fault.status} simulated failure")
            elif fault.kind == "server_error":
                return self._answer(self.envelope({}, SERVER_ERROR, "Server error."), headers)
            elif fault.kind == "maintenance":
                return self._answer(
                    self.envelope({}, SERVER_ERROR, "Service is restarting"), headers
                )
            elif fault.kind == "drop_reply":
                drop = fault
        handler = public if public is not None else private[0] if private is not None else None
        if handler is None:  # unreachable: unknown routes answered 404 above
            raise RuntimeError(path)
        text = self.run(handler, params, key)
        await self.commit()
        if drop is not None:
            await asyncio.sleep(drop.ms / 1000)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        return self._answer(text, headers)

    def run(self, handler: rest.Handler, params: dict[str, Any], key: ApiKey | None) -> str:
        """Call one handler with the market caught up; errors become Bybit envelopes."""
        self.engine.advance_to(min(self.clock.now(), self.engine.market.replay_end()))
        try:
            result = handler(self.engine, params, key)
        except rest.MarginModeError as exc:
            return self.envelope(exc.result, exc.code, exc.message)
        except BybitError as exc:
            return self.envelope({}, exc.code, exc.message)
        if isinstance(result, rest.BatchResult):
            return self.envelope(result.result, ext=result.ext)
        return self.envelope(result)

    @staticmethod
    def _params(method: str, raw_query: str, body: str) -> dict[str, Any]:
        if method == "GET":
            return dict(parse_qsl(raw_query, keep_blank_values=True))
        if not body.strip():
            return {}
        try:
            data = _BODY_DECODER.decode(body)
        except ValueError:
            raise BybitError(10001, "params error: request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise BybitError(10001, "params error: request body must be a JSON object")
        return data

    @staticmethod
    def _cost(path: str, params: dict[str, Any]) -> int:
        """Batch endpoints consume one unit per order in them (docs/v5/rate-limit)."""
        if path.endswith("-batch") and isinstance(params.get("request"), list):
            return max(1, len(params["request"]))
        return 1

    # --- order entry over WebSocket -----------------------------------------------------------
    async def trade_op(self, conn: Conn, op: str, data: dict[str, Any]) -> dict[str, Any]:
        req_id = data.get("reqId")
        now = self.clock.server_ms()
        reply: dict[str, Any] = {"reqId": req_id} if req_id is not None else {}
        base_header = {"Traceid": conn.conn_id.replace("-", ""), "Timenow": str(now)}

        def answer(
            code: int, msg: str, result: Any, ext: Any = None, hdr: Any = None
        ) -> dict[str, Any]:
            return {
                **reply,
                "retCode": code,
                "retMsg": msg,
                "op": op,
                "data": result,
                "retExtInfo": ext if ext is not None else {},
                "header": {**(hdr or {}), **base_header},
                "connId": conn.conn_id,
            }

        if conn.uid is None:
            return answer(10003, "Request not authorized", {})
        if req_id is not None:
            if str(req_id) in conn.req_ids:
                return answer(20006, "reqId is duplicated", {})
            conn.req_ids.add(str(req_id))
        path = TRADE_OPS.get(op)
        if path is None:
            return answer(10001, f"unknown op {op}", {})
        header = data.get("header") or {}
        try:
            ts = int(str(header.get("X-BAPI-TIMESTAMP")))
            rw = int(str(header.get("X-BAPI-RECV-WINDOW", 5000)))
        except (TypeError, ValueError):
            return answer(10001, "params error: X-BAPI-TIMESTAMP is required", {})
        if not (now - rw <= ts < now + 1000):
            return answer(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{now}],recv_window[{rw}]",
                {},
            )
        allowed, limit_headers = self.limits.hit_uid(conn.uid, path, now)
        if not allowed:
            return answer(10006, "Too many visits!", {}, hdr=limit_headers)
        args = data.get("args") or [{}]
        params = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        handler = rest.PRIVATE[("POST", path)][0]
        key = next(k for k in self.engine.keys.values() if k.uid == conn.uid)
        for fault in self.faults.match(conn.uid, path):
            if fault.kind == "latency":
                await asyncio.sleep(fault.ms / 1000)
            elif fault.kind in ("server_error", "maintenance", "http_5xx"):
                return answer(10016, "Server error.", {}, hdr=limit_headers)
        envelope = json.loads(self.run(handler, json.loads(json.dumps(params, default=str)), key))
        await self.commit()
        return answer(
            envelope["retCode"],
            envelope["retMsg"],
            envelope["result"],
            envelope["retExtInfo"],
            hdr=limit_headers,
        )

    # --- app ----------------------------------------------------------------------------------
    def app(self) -> web.Application:
        application = web.Application(client_max_size=4 * 1024 * 1024)
        application.router.add_get("/v5/public/linear", lambda r: self.hub.handle(r, "public"))
        application.router.add_get("/v5/private", lambda r: self.hub.handle(r, "private"))
        application.router.add_get("/v5/trade", lambda r: self.hub.handle(r, "trade"))
        control_api.add_routes(application, self)
        application.router.add_route("*", "/v5/{tail:.*}", self.handle_v5)
        application.on_startup.append(self._on_startup)
        application.on_cleanup.append(self._on_cleanup)
        return application

    async def _on_startup(self, _app: web.Application) -> None:
        await self.tick()
        log.info(
            "market at %s (replay offset %s ms), state %s",
            self.clock.now(),
            self.clock.offset,
            self.store.path,
        )
        if self.clock.mode != "stepped":
            self._ticker = asyncio.create_task(self.run_ticker())

    async def _on_cleanup(self, _app: web.Application) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for conn in list(self.hub.conns):
            await conn.ws.close()
        self.engine.flush()
        self.store.close()


def serve(host: str, port: int, state: str, clock: str, speed: float) -> None:
    """Run until SIGINT/SIGTERM; state is flushed on the way out."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    started = time.monotonic()
    sim = Simulator(state, clock, speed)
    log.info("loaded in %.2fs; clock=%s", time.monotonic() - started, clock)
    # uvloop's event loop costs about a tenth less CPU per request than asyncio's own
    # (bench/simulator_roundtrip.py); nothing here depends on which loop runs.
    profile_path = os.environ.get("SIMULATOR_PROFILE")
    if not profile_path:
        uvloop.run(_serve(sim, host, port))
        return
    # Where the server's time goes (docs/simulator.md): cProfile over the whole serving loop,
    # written on a clean stop; read it with ``python -m pstats FILE``.
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        uvloop.run(_serve(sim, host, port))
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


async def _serve(sim: Simulator, host: str, port: int) -> None:
    """Serve until a signal; ``--port 0`` binds a free port, announced in the log as
    ``listening on http://HOST:PORT`` (the test fixture reads it, so ports never race)."""
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    log.info("listening on http://%s:%s", host, bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
