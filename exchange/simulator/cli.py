"""The fixed command line: ``serve``, ``account`` and ``reset`` (tools outside the project use it)."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation

from exchange.simulator.clock import MODES, SimClock
from exchange.simulator.engine import Engine
from exchange.simulator.market_data import MarketData
from exchange.simulator.store import Store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exchange.simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the simulator (REST + WebSocket + /sim control API)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--state", required=True, help="SQLite state file (created if missing)")
    serve.add_argument("--clock", choices=MODES, default="real")
    serve.add_argument(
        "--speed", type=float, default=60.0, help="fast clock: sim seconds per second"
    )
    account = sub.add_parser("account", help="create an account with one API key")
    account.add_argument("--state", required=True)
    account.add_argument("--usdt", required=True, help="initial USDT deposit")
    account.add_argument("--read-only", action="store_true")
    account.add_argument("--withdraw", action="store_true", help="give the key Withdraw permission")
    account.add_argument("--json", action="store_true", help="print one JSON line")
    reset = sub.add_parser("reset", help="delete every account, order and the clock position")
    reset.add_argument("--state", required=True)
    return parser


def _account(args: argparse.Namespace) -> int:
    try:
        usdt = Decimal(args.usdt)
    except InvalidOperation:
        print(f"--usdt must be a decimal, got {args.usdt!r}", file=sys.stderr)  # noqa: T201
        return 2
    store = Store(args.state)
    saved_sim = store.get_meta("sim_now")
    saved_offset = store.get_meta("offset")
    clock = SimClock.start(
        "stepped",
        1.0,
        int(saved_sim) if saved_sim else None,
        int(saved_offset) if saved_offset else None,
    )
    store.set_meta("offset", str(clock.offset))
    if saved_sim is None:
        store.set_meta("sim_now", str(clock.now()))
    engine = Engine(store, clock, MarketData.load(clock.offset))
    account, key = engine.create_account(usdt, args.read_only, args.withdraw)
    store.close()
    line = {"uid": account.uid, "api_key": key.api_key, "api_secret": key.secret}
    if args.json:
        print(json.dumps(line))  # noqa: T201
    else:
        print(f"uid {line['uid']}\napi_key {line['api_key']}\napi_secret {line['api_secret']}")  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from exchange.simulator.server import serve

        serve(args.host, args.port, args.state, args.clock, args.speed)
        return 0
    if args.command == "account":
        return _account(args)
    store = Store(args.state)
    store.reset()
    store.close()
    return 0
