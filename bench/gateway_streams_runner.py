"""The whole stream process (``StreamRunner``) holding N private connections, on the simulator.

Run: ``DJANGO_SETTINGS_MODULE=tradingsvc.settings.test .venv/bin/python bench/gateway_streams_runner.py``
(``BENCH_STREAMS=500``). Unlike ``gateway_streams.py`` (sockets only), this goes through everything
``run_streams`` does: it creates a scratch PostgreSQL database ``bench_gateway_streams`` on the test
server, migrates it, seals N keys into N ``ExchangeConnection`` rows, runs the shard's runner until
every connection is subscribed and caught up through REST, fills one market order per account and
waits until every fill is stored and handed over. It prints RSS and timings, then drops the database.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingsvc.settings.test")
DB = "bench_gateway_streams"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
N = int(os.environ.get("BENCH_STREAMS", "500"))

import psycopg  # noqa: E402


def admin_sql(sql: str) -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(sql)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    admin_sql(f"CREATE DATABASE {DB}")
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB}")


def run() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from accounts.models import Tenant
    from exchange.credentials import credentials_seal
    from exchange.limiter import reset_limiter
    from exchange.models import ExchangeConnection, Execution
    from exchange.services.accounts import exchange_account_attach
    from exchange.streams.runner import StreamRunner
    from tests.fixtures.simulator import SimulatorHandle

    with tempfile.TemporaryDirectory() as tmp:
        sim = SimulatorHandle(Path(tmp) / "sim.db")
        sim.start()
        try:
            sim.admin("POST", "/sim/ratelimits", {"uid_scale": 1000, "ip_limit": 10**7})
            ws = sim.base_url.replace("http://", "ws://")
            settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": sim.base_url}
            settings.EXCHANGE_WS_URLS = {
                **settings.EXCHANGE_WS_URLS,
                "simulator": {"public": ws, "private": ws},
            }
            settings.EXCHANGE_IP_BUDGET = 10**6  # the simulator has no IP limit here
            settings.EXCHANGE_STREAM_CONNECTS_PER_5MIN = 10**6  # nor a connect limit
            reset_limiter()
            accounts = []
            for i in range(N):
                uid, key, secret = sim.create_account(usdt="10000")
                tenant = Tenant.objects.create(name=f"bench-{i}")
                conn = ExchangeConnection(
                    tenant=tenant,
                    environment="simulator",
                    status=ExchangeConnection.Status.ACTIVE,
                    exchange_uid=str(uid),
                )
                exchange_account_attach(connection=conn)  # as key validation does
                conn.save()
                credentials_seal(conn, api_key=key, api_secret=secret)
                accounts.append((conn.pk, key, secret))
            before = rss_mb()
            runner = StreamRunner(0, 1)
            started = time.monotonic()
            runner.start()
            while len(runner.catchups) < N and time.monotonic() - started < 300:
                runner.step(timeout=0.1)
            ready = time.monotonic() - started
            held = rss_mb()
            print(
                f"runner: {len(runner.catchups)}/{N} private connections subscribed and caught up"
            )
            print(f"  time to open + REST catch-up for all: {ready:.1f} s")
            print(f"  process RSS {before:.1f} MB before the runner, {held:.1f} MB holding {N}")

            t0 = time.monotonic()
            for _pk, key, secret in accounts:
                sim.http(key, secret).place_order(
                    category="linear",
                    symbol="BTCUSDT",
                    side="Buy",
                    orderType="Market",
                    qty="0.001",
                )
            placed = time.monotonic() - t0
            while (
                Execution.objects.exclude(handled_at=None).count() < N
                and time.monotonic() - t0 < 120
            ):
                runner.step(timeout=0.1)
            stored = Execution.objects.count()
            print(
                f"  {N} market orders placed in {placed:.1f} s; {stored} executions stored "
                f"(unique per exec id) {time.monotonic() - t0:.1f} s after the first order"
            )
            print(f"  process RSS at the end: {rss_mb():.1f} MB")
            runner.stop()
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
