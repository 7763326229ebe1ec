"""How many private streams one process holds, and with how much memory, on the simulator.

Run: ``DJANGO_SETTINGS_MODULE=tradingsvc.settings.test .venv/bin/python bench/gateway_streams.py``
(``BENCH_STREAMS=500`` by default; it starts its own simulator).

It opens ``BENCH_STREAMS`` private sockets exactly as the stream process does
(``exchange.streams.sockets.StreamSocket``: auth, subscribe to order/execution/position/wallet,
ping), each for its own simulator account, in one asyncio loop inside a process that has Django
set up. It prints the process's RSS before and after, how long opening took, and then checks that
pushes still arrive on every socket by filling one market order per account. Bybit's own limit of
500 new connections per 5 minutes per IP is not applied here (the simulator has none).
Target: 500 connections under 300 MB.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingsvc.settings.test")

import django  # noqa: E402

django.setup()

import aiohttp  # noqa: E402
import requests  # noqa: E402

from exchange.streams.sockets import Inbound, StreamSocket  # noqa: E402
from tests.fixtures.simulator import SimulatorHandle  # noqa: E402
from tradingsvc.lib.secret import Secret  # noqa: E402

N = int(os.environ.get("BENCH_STREAMS", "500"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def hold(sim: SimulatorHandle, accounts: list[tuple[int, str, str]]) -> None:
    outbox: queue.Queue[Inbound] = queue.Queue()
    before = rss_mb()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = [
            StreamSocket(
                name=f"private:{uid}",
                url=sim.ws_url("/v5/private"),
                topics=["order", "execution", "position", "wallet"],
                outbox=outbox,
                session=session,
                connection_id=uid,
                api_key=Secret(key),
                api_secret=Secret(secret),
            )
            for uid, key, secret in accounts
        ]
        started = time.monotonic()
        tasks = [asyncio.create_task(s.run()) for s in sockets]
        connected: set[int] = set()
        while len(connected) < N and time.monotonic() - started < 120:
            await asyncio.sleep(0.1)
            while not outbox.empty():
                item = outbox.get_nowait()
                if item.kind == "connected" and item.connection_id is not None:
                    connected.add(item.connection_id)
        opened = time.monotonic() - started
        await asyncio.sleep(1)
        after = rss_mb()
        print(f"private streams held: {len(connected)}/{N} (auth + 4 topics each)")
        print(f"time to open all: {opened:.1f} s")
        print(f"process RSS: {before:.1f} MB before, {after:.1f} MB with the sockets open")
        print(
            f"  -> {after - before:.1f} MB for {N} sockets ({(after - before) * 1024 / N:.0f} KB each)"
        )

        # Pushes still flow: one market order per account, count execution messages.
        def trade() -> None:
            http = requests.Session()
            for uid, key, secret in accounts:
                s = sim.http(key, secret)
                s.place_order(
                    category="linear",
                    symbol="BTCUSDT",
                    side="Buy",
                    orderType="Market",
                    qty="0.001",
                )
                del s, uid
            http.close()

        t0 = time.monotonic()
        await asyncio.to_thread(trade)
        got: set[int] = set()
        while len(got) < N and time.monotonic() - t0 < 60:
            await asyncio.sleep(0.1)
            while not outbox.empty():
                item = outbox.get_nowait()
                topic = item.data.get("topic")
                if item.kind == "message" and topic == "execution" and item.connection_id:
                    got.add(item.connection_id)
        print(f"execution pushes received on {len(got)}/{N} sockets")
        print(f"process RSS at the end: {rss_mb():.1f} MB")
        for s in sockets:
            await s.close()
        for t in tasks:
            t.cancel()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sim = SimulatorHandle(Path(tmp) / "sim.db")
        sim.start()
        try:
            sim.admin("POST", "/sim/ratelimits", {"uid_scale": 1000, "ip_limit": 10**7})
            accounts = [sim.create_account(usdt="10000") for _ in range(N)]
            asyncio.run(hold(sim, accounts))
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
