"""Gateway overhead per call over raw pybit, against the local simulator.

Run: ``DJANGO_SETTINGS_MODULE=tradingsvc.settings.test .venv/bin/python bench/gateway_overhead.py``
(needs the test Redis on 127.0.0.1:6379/15; it starts its own simulator).

The same request is sent alternately through a bare pybit ``HTTP`` session and through the gateway
(shared Redis limiter admission + header bookkeeping + server-time offset + typed parsing), so both
see the same simulator and network noise. The simulator's and the limiter's budgets are lifted so
nothing waits: this measures the gateway's own cost, not rate limiting. Target: < 1 ms per call.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingsvc.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from exchange.credentials import Credentials  # noqa: E402
from exchange.gateway import ExchangeGateway  # noqa: E402
from exchange.limiter import reset_limiter  # noqa: E402
from tests.fixtures.simulator import SimulatorHandle  # noqa: E402
from tradingsvc.lib.secret import Secret  # noqa: E402

N = int(os.environ.get("BENCH_CALLS", "400"))


def timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sim = SimulatorHandle(Path(tmp) / "sim.db")
        sim.start()
        try:
            sim.admin("POST", "/sim/ratelimits", {"uid_scale": 1000, "ip_limit": 10**7})
            settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": sim.base_url}
            settings.EXCHANGE_IP_BUDGET = 10**7
            settings.EXCHANGE_UID_LIMITS = {
                k: v * 1000 for k, v in settings.EXCHANGE_UID_LIMITS.items()
            }
            settings.EXCHANGE_DEFAULT_UID_LIMIT = 10_000
            reset_limiter()
            _, key, secret = sim.create_account()
            raw = sim.http(key, secret)
            gw = ExchangeGateway.for_credentials(
                "simulator", Credentials(api_key=Secret(key), api_secret=Secret(secret))
            )
            cases = {
                "wallet_balance (signed GET)": (
                    lambda: raw.get_wallet_balance(accountType="UNIFIED"),
                    gw.wallet_balance,
                ),
                "tickers BTCUSDT (public GET)": (
                    lambda: raw.get_tickers(category="linear", symbol="BTCUSDT"),
                    lambda: gw.tickers("BTCUSDT"),
                ),
            }
            print(f"gateway overhead over raw pybit 5.17.0, {N} calls each, simulator on loopback")
            for name, (raw_fn, gw_fn) in cases.items():
                timed(raw_fn, 20), timed(gw_fn, 20)  # warm up: connections, offset, limits
                raw_ms: list[float] = []
                gw_ms: list[float] = []
                for _ in range(N // 20):
                    raw_ms += timed(raw_fn, 10)
                    gw_ms += timed(gw_fn, 10)
                med_raw, med_gw = statistics.median(raw_ms), statistics.median(gw_ms)
                mean_raw, mean_gw = statistics.fmean(raw_ms), statistics.fmean(gw_ms)
                print(
                    f"  {name:30s} raw p50 {med_raw:6.3f} ms  gateway p50 {med_gw:6.3f} ms  "
                    f"overhead p50 {med_gw - med_raw:+.3f} ms  mean {mean_gw - mean_raw:+.3f} ms"
                )
            # The gateway's own work without the network: limiter admission and settling.
            from exchange.limiter import get_limiter

            lim = get_limiter()

            def admit_and_settle() -> None:
                permit = lim.acquire(
                    environment="simulator", endpoint="/v5/account/wallet-balance", account="b"
                )
                lim.settle(permit)

            t = timed(admit_and_settle, N)
            print(
                "  limiter alone (admission + a settle, two Redis EVALSHA; the gateway skips the "
                f"settle for answers within the margin): p50 {statistics.median(t):.3f} ms"
            )
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
