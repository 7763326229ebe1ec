"""The simulator's control API under ``/sim``: clock, accounts, faults, rate limits, disconnects.

It is for tests, the demo and operators on loopback, so it has no auth. Bodies and answers are JSON;
amounts are decimal strings. Errors answer HTTP 400 ``{"error": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from aiohttp import web

from exchange.simulator import rest
from exchange.simulator.clock import SimClock
from exchange.simulator.engine import Engine
from exchange.simulator.faults import Faults
from exchange.simulator.ratelimit import RateLimiter

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = json.loads(await request.text() or "{}")
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _amount(value: Any, name: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal") from None
    return amount


class Controlled(Protocol):
    """What the control API drives (``server.Simulator``), stated here so this module does not
    import the server that mounts it (no import cycle)."""

    clock: SimClock
    engine: Engine
    faults: Faults
    limits: RateLimiter

    async def tick(self) -> None: ...

    async def commit(self) -> None: ...

    async def disconnect(self, kind: str, uid: int | None) -> int: ...


def add_routes(app: web.Application, sim: Controlled) -> None:
    def guarded(fn: Callable[[web.Request], Awaitable[Any]]) -> Route:
        async def route(request: web.Request) -> web.StreamResponse:
            try:
                return _json(await fn(request))
            except (ValueError, KeyError, TypeError) as exc:
                return _json({"error": str(exc) or exc.__class__.__name__}, status=400)

        return route

    def clock_state() -> dict[str, Any]:
        c = sim.clock
        return {
            "mode": c.mode,
            "now": c.now(),
            "processed_to": sim.engine.processed_to,
            "speed": c.speed,
            "offset": c.offset,
            "skew_ms": c.skew_ms,
            "server_time": c.server_ms(),
            "replay_end": sim.engine.market.replay_end(),
            "prices": {s: str(p) for s, p in sim.engine.last.items()},
        }

    async def health(_r: web.Request) -> Any:
        return {"ok": True, **clock_state()}

    async def clock(_r: web.Request) -> Any:
        return clock_state()

    async def advance(r: web.Request) -> Any:
        """Move a stepped (or fast) clock: ``{"ms": n}``, ``{"minutes": n}`` or ``{"to": t}``."""
        body = await _body(r)
        now = sim.clock.now()
        if "to" in body:
            target = int(body["to"])
        else:
            target = now + int(body.get("ms", 0)) + int(body.get("minutes", 0)) * 60_000
        sim.clock.set_sim(target)
        await sim.tick()
        return clock_state()

    async def speed(r: web.Request) -> Any:
        sim.clock.set_speed(float((await _body(r))["speed"]))
        return clock_state()

    async def skew(r: web.Request) -> Any:
        """Shift server time (auth checks, /v5/market/time) by ``ms``; 0 clears it."""
        sim.clock.skew_ms = int((await _body(r)).get("ms", 0))
        return clock_state()

    def account_state(uid: int) -> dict[str, Any]:
        eng = sim.engine
        account = eng.accounts[uid]
        return {
            "uid": uid,
            "wallet_balance": str(account.wallet_balance),
            "wallet": rest.wallet_item(eng, uid),
            "keys": [
                {"api_key": k.api_key, "read_only": k.read_only, "withdraw": k.withdraw}
                for k in eng.keys.values()
                if k.uid == uid
            ],
            "open_orders": len(eng.open_orders.get(uid, {})),
        }

    async def create_account(r: web.Request) -> Any:
        body = await _body(r)
        usdt = _amount(body.get("usdt", "0"), "usdt")
        if usdt < 0:
            raise ValueError("usdt must not be negative")
        account, key = sim.engine.create_account(
            usdt, bool(body.get("read_only", False)), bool(body.get("withdraw", False))
        )
        await sim.commit()
        return {"uid": account.uid, "api_key": key.api_key, "api_secret": key.secret}

    async def get_account(r: web.Request) -> Any:
        return account_state(int(r.match_info["uid"]))

    async def add_key(r: web.Request) -> Any:
        body = await _body(r)
        uid = int(r.match_info["uid"])
        key = sim.engine.create_key(
            uid,
            bool(body.get("read_only", False)),
            bool(body.get("withdraw", False)),
            str(body.get("note", "")),
        )
        await sim.commit()
        return {"uid": uid, "api_key": key.api_key, "api_secret": key.secret}

    async def update_key(r: web.Request) -> Any:
        body = await _body(r)
        changes = {n: bool(body[n]) for n in ("read_only", "withdraw") if n in body}
        key = sim.engine.update_key(r.match_info["api_key"], **changes)
        await sim.commit()
        return {"api_key": key.api_key, "read_only": key.read_only, "withdraw": key.withdraw}

    async def revoke_key(r: web.Request) -> Any:
        sim.engine.revoke_key(r.match_info["api_key"])
        await sim.commit()
        return {"revoked": r.match_info["api_key"]}

    async def deposit(r: web.Request) -> Any:
        uid = int(r.match_info["uid"])
        sim.engine.deposit(uid, _amount((await _body(r))["amount"]))
        await sim.commit()
        return account_state(uid)

    async def withdraw(r: web.Request) -> Any:
        uid = int(r.match_info["uid"])
        sim.engine.withdraw(uid, _amount((await _body(r))["amount"]))
        await sim.commit()
        return account_state(uid)

    async def list_faults(_r: web.Request) -> Any:
        return {"faults": [f.describe() for f in sim.faults.rules]}

    async def add_fault(r: web.Request) -> Any:
        body = await _body(r)
        allowed = {"kind", "uid", "path", "probability", "count", "ms", "status", "seed"}
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return sim.faults.add(**body).describe()

    async def clear_faults(_r: web.Request) -> Any:
        sim.faults.clear()
        sim.clock.skew_ms = 0
        return {"faults": []}

    async def set_limits(r: web.Request) -> Any:
        """``{"uid_scale": f, "endpoints": {path: n}, "ip_limit": n, "ip_ban_ms": n}``."""
        body = await _body(r)
        lim = sim.limits
        if "uid_scale" in body:
            lim.uid_scale = float(body["uid_scale"])
        for path, n in (body.get("endpoints") or {}).items():
            lim.overrides[str(path)] = int(n)
        if "ip_limit" in body:
            lim.ip_limit = int(body["ip_limit"])
        if "ip_ban_ms" in body:
            lim.ip_ban_ms = int(body["ip_ban_ms"])
        return {
            "uid_scale": lim.uid_scale,
            "endpoints": lim.overrides,
            "ip_limit": lim.ip_limit,
            "ip_ban_ms": lim.ip_ban_ms,
        }

    async def reset_limits(_r: web.Request) -> Any:
        sim.limits.reset()
        return {"ok": True}

    async def disconnect(r: web.Request) -> Any:
        """Close WebSockets now: ``{"kind": "public"|"private"|"trade"|"all", "uid": n?}``."""
        body = await _body(r)
        kind = str(body.get("kind", "all"))
        if kind not in ("public", "private", "trade", "all"):
            raise ValueError("kind must be public, private, trade or all")
        uid = body.get("uid")
        closed = await sim.disconnect(kind, int(uid) if uid is not None else None)
        return {"closed": closed}

    router = app.router
    router.add_get("/sim/health", guarded(health))
    router.add_get("/sim/clock", guarded(clock))
    router.add_post("/sim/clock/advance", guarded(advance))
    router.add_post("/sim/clock/speed", guarded(speed))
    router.add_post("/sim/clock/skew", guarded(skew))
    router.add_post("/sim/accounts", guarded(create_account))
    router.add_get("/sim/accounts/{uid}", guarded(get_account))
    router.add_post("/sim/accounts/{uid}/keys", guarded(add_key))
    router.add_post("/sim/keys/{api_key}", guarded(update_key))
    router.add_delete("/sim/keys/{api_key}", guarded(revoke_key))
    router.add_post("/sim/accounts/{uid}/deposit", guarded(deposit))
    router.add_post("/sim/accounts/{uid}/withdraw", guarded(withdraw))
    router.add_get("/sim/faults", guarded(list_faults))
    router.add_post("/sim/faults", guarded(add_fault))
    router.add_delete("/sim/faults", guarded(clear_faults))
    router.add_post("/sim/ratelimits", guarded(set_limits))
    router.add_delete("/sim/ratelimits", guarded(reset_limits))
    router.add_post("/sim/ws/disconnect", guarded(disconnect))
