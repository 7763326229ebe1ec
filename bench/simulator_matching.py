"""Time to match one replayed 1-minute candle against 10,000 resting limit orders, in process.

Builds 20 accounts x 500 orders (Bybit's per-symbol cap) spread over +-3% around BTCUSDT, then
advances the market one minute at a time and reports the time per candle, split into candles that
filled nothing and candles that filled orders (fills cost bookkeeping and SQLite writes, which are
included: the store is flushed inside the timed section).
Run: ``.venv/bin/python bench/simulator_matching.py [--orders N] [--candles N]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchange.simulator.clock import SimClock
from exchange.simulator.engine import Engine
from exchange.simulator.market_data import MINUTE, MarketData
from exchange.simulator.store import Store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--candles", type=int, default=120)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        clock = SimClock.start("stepped", 1.0, None, None)
        engine = Engine(store, clock, MarketData.load(clock.offset))
        last = engine.last["BTCUSDT"]
        per_account = 500
        accounts = [
            engine.create_account(Decimal("100000000"), False, False)[0].uid
            for _ in range((args.orders + per_account - 1) // per_account)
        ]
        placed = 0
        for uid in accounts:
            for _ in range(min(per_account, args.orders - placed)):
                offset = Decimal(rng.randint(1, 3000)) / 100000  # 0.001% .. 3%
                buy = rng.random() < 0.5
                price = last * (1 - offset) if buy else last * (1 + offset)
                engine.place_order(
                    uid,
                    {
                        "category": "linear",
                        "symbol": "BTCUSDT",
                        "side": "Buy" if buy else "Sell",
                        "orderType": "Limit",
                        "qty": "0.001",
                        "price": str(price.quantize(Decimal("0.1"))),
                    },
                )
                placed += 1
        engine.flush()
        engine.drain_events()
        resting = sum(len(v) for v in engine.open_orders.values())
        quiet: list[float] = []
        busy: list[tuple[float, int]] = []
        now = clock.now()
        for _ in range(args.candles):
            before = sum(len(v) for v in engine.executions.values())
            now += MINUTE
            clock.set_sim(now)
            t0 = time.perf_counter()
            engine.advance_to(now)
            engine.flush()
            spent = time.perf_counter() - t0
            engine.drain_events()
            fills = sum(len(v) for v in engine.executions.values()) - before
            if fills:
                busy.append((spent, fills))
            else:
                quiet.append(spent)
        store.close()
    print(f"resting orders at start: {resting} (BTCUSDT, 20 accounts)")
    if quiet:
        print(
            f"candle with no fills: median {statistics.median(quiet) * 1000:.3f} ms, "
            f"max {max(quiet) * 1000:.3f} ms over {len(quiet)} candles"
        )
    if busy:
        times = [b[0] for b in busy]
        fill_counts = [b[1] for b in busy]
        print(
            f"candle with fills: median {statistics.median(times) * 1000:.2f} ms, "
            f"max {max(times) * 1000:.2f} ms over {len(busy)} candles "
            f"(median {statistics.median(fill_counts):.0f}, max {max(fill_counts)} fills per candle; "
            f"{sum(times) / sum(fill_counts) * 1e6:.0f} us per fill incl. SQLite)"
        )
    print(f"all candles: median {statistics.median(quiet + [b[0] for b in busy]) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
