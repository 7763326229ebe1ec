"""Signed order create+cancel round trips through pybit against a real simulator process.

Prints round trips per second and p50/p99 latency of one create+cancel pair. The per-UID and per-IP
limits are raised through the control API first, since Bybit's 10 orders/s would otherwise be the
figure measured. Run: ``.venv/bin/python bench/simulator_roundtrip.py [--pairs N]``.

The wall-clock figure includes pybit's own work and whatever else the machine is running (the
client and the server share its cores). The server's figure divides the round trips by the CPU
time the simulator process used meanwhile (from /proc): what one core running the simulator
serves, whoever else is busy. The client's CPU time per pair says how much of the wall clock is
pybit itself: one client thread waits for each answer, so wall time per pair = client CPU + the
server's time until it answers + the loopback hops.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.simulator import SimulatorHandle


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sim = SimulatorHandle(Path(tmp) / "bench.db")
        sim.start()
        try:
            sim.admin("POST", "/sim/ratelimits", {"uid_scale": 10000, "ip_limit": 10**9})
            _, key, secret = sim.create_account(usdt="1000000")
            http = sim.http(key, secret)
            price = sim.admin("GET", "/sim/clock")["prices"]["BTCUSDT"]
            bid = f"{float(price) * 0.9:.1f}"
            for _ in range(50):  # warm-up: connections, caches
                oid = http.place_order(
                    category="linear",
                    symbol="BTCUSDT",
                    side="Buy",
                    orderType="Limit",
                    qty="0.001",
                    price=bid,
                )["result"]["orderId"]
                http.cancel_order(category="linear", symbol="BTCUSDT", orderId=oid)
            latencies = []
            if sim.proc is None:
                raise RuntimeError("the simulator process is not running")
            pid = sim.proc.pid
            cpu_before = cpu_seconds(pid)
            client_before = time.process_time()
            started = time.perf_counter()
            for i in range(args.pairs):
                t0 = time.perf_counter()
                oid = http.place_order(
                    category="linear",
                    symbol="BTCUSDT",
                    side="Buy",
                    orderType="Limit",
                    qty="0.001",
                    price=bid,
                    orderLinkId=f"bench-{i}",
                )["result"]["orderId"]
                http.cancel_order(category="linear", symbol="BTCUSDT", orderId=oid)
                latencies.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
            client_cpu = time.process_time() - client_before
            server_cpu = cpu_seconds(pid) - cpu_before
        finally:
            sim.stop()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"pairs: {args.pairs} signed create+cancel round trips through pybit (one client thread)")
    print(f"round trips/s: {args.pairs / elapsed:.0f} (wall clock, client and server together)")
    print(
        f"server: {server_cpu:.2f} CPU s, {args.pairs / server_cpu:.0f} round trips per CPU second"
        f" ({server_cpu / args.pairs * 1e6 / 2:.0f} us per request)"
    )
    print(
        f"client: {client_cpu:.2f} CPU s, {client_cpu / args.pairs * 1000:.2f} ms per pair"
        f" (pybit; {client_cpu / elapsed:.0%} of the wall clock: near 100% the client is the limit)"
    )
    print(f"p50 latency: {statistics.median(latencies) * 1000:.2f} ms per create+cancel")
    print(f"p99 latency: {p99 * 1000:.2f} ms per create+cancel")


if __name__ == "__main__":
    main()
