"""Signed order create+cancel round trips through pybit against a real simulator process.

Prints round trips per second and p50/p99 latency of one create+cancel pair. The per-UID and per-IP
limits are raised through the admin API first, since Bybit's 10 orders/s would otherwise be the
figure measured. Run: ``.venv/bin/python bench/simulator_roundtrip.py [--pairs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.simulator import SimulatorHandle


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
        finally:
            sim.stop()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"pairs: {args.pairs} signed create+cancel round trips through pybit (one client thread)")
    print(f"round trips/s: {args.pairs / elapsed:.0f}")
    print(f"p50 latency: {statistics.median(latencies) * 1000:.2f} ms per create+cancel")
    print(f"p99 latency: {p99 * 1000:.2f} ms per create+cancel")


if __name__ == "__main__":
    main()
