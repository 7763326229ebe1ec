"""Engine throughput: N bots ticked by two real Celery worker processes against the simulator.

    .venv/bin/python bench/engine_ticks.py                 # 100 and 1,000 bots, dry run and live
    .venv/bin/python bench/engine_ticks.py --bots 5000 --modes dry_run

For each (bot count, mode) it creates the bots on one template (so one shared signal per candle),
closes one candle, dispatches, and waits until every tick is done. It prints ticks/s, p50/p99 from
the dispatch of the closed candle to the order being sent (live) or simulated (dry run), database
queries per tick (measured in-process on a sample) and the peak memory of each worker process.

It uses its own PostgreSQL database (``bench_tradingsvc``) and Redis database 12, so it never
touches test or demo data. Live bots each get their own simulator account; the gateway's per-IP
budget (Bybit's 600 requests / 5 s) applies, as it would in production.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_tradingsvc"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "LOG_LEVEL": "WARNING",
    }
)


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user="postgres", host="127.0.0.1", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def start_simulator(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.simulator", "serve", "--port", str(port),
         "--state", str(tmp / "sim.sqlite3"), "--clock", "stepped"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    import requests

    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/sim/health", timeout=1)
            return proc, port
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("the simulator did not start")


def start_workers(count: int, tmp: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(count):
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tradingsvc",
                    "worker",
                    "-P",
                    "solo",
                    "--hostname",
                    f"bench{i}@%h",
                    "-l",
                    "WARNING",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                stdout=(tmp / f"worker{i}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return procs


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(bots: int, mode: str, sim_port: int) -> dict[str, float]:
    from decimal import Decimal

    import requests
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Tenant
    from bots.models import Bot, BotTick, EquitySnapshot, OrderIntent, RiskTemplate
    from bots.services.ticks import tick_run, ticks_dispatch
    from exchange.credentials import credentials_seal
    from exchange.models import ExchangeConnection
    from exchange.services.candles import candles_sync
    from exchange.services.market_data import market_data_subscribe

    # Trend following enters on the first tick when flat, so every bot places one order.
    template = RiskTemplate.objects.get(slug="moderate")
    made = []
    for i in range(bots):
        tenant = Tenant.objects.create(name=f"bench {mode} {bots}-{i}")
        connection = None
        if mode == "live":
            account = requests.post(
                f"http://127.0.0.1:{sim_port}/sim/accounts", json={"usdt": "100000"}, timeout=10
            ).json()
            connection = ExchangeConnection.objects.create(
                tenant=tenant,
                environment="simulator",
                status="active",
                exchange_uid=str(account["uid"]),
            )
            credentials_seal(
                connection, api_key=account["api_key"], api_secret=account["api_secret"]
            )
            EquitySnapshot.objects.create(
                tenant=tenant, at=timezone.now(), equity=Decimal("100000")
            )
        made.append(
            Bot(
                tenant=tenant,
                connection=connection,
                template=template,
                name=f"b{i}",
                symbol="BTCUSDT",
                timeframe=template.timeframe,
                strategy=template.strategy,
                strategy_params=template.strategy_params,
                mode=mode,
                state=Bot.State.RUNNING,
                risk_per_trade=template.risk_per_trade,
                max_position_multiple=template.max_position_multiple,
                max_leverage=template.max_leverage,
                daily_loss_limit=template.daily_loss_limit,
                max_drawdown=template.max_drawdown,
                default_stop_fraction=template.default_stop_fraction,
            )
        )
    Bot.objects.bulk_create(made, batch_size=500)
    market_data_subscribe(symbol="BTCUSDT", interval=template.timeframe, consumer="bench")

    requests.post(
        f"http://127.0.0.1:{sim_port}/sim/clock/advance",
        json={"minutes": int(template.timeframe)},
        timeout=10,
    )
    candles_sync()
    started = time.monotonic()
    dispatched_at = timezone.now()
    due = ticks_dispatch()
    while BotTick.objects.filter(status=BotTick.Status.PENDING).exists():
        time.sleep(0.05)
    elapsed = time.monotonic() - started

    latencies = [
        (i.sent_at - dispatched_at).total_seconds()
        for i in OrderIntent.objects.filter(
            sent_at__isnull=False,
            bot__in=Bot.objects.filter(tenant__name__startswith=f"bench {mode} {bots}-"),
            created_at__gte=dispatched_at,
        ).only("sent_at")
    ]
    # Queries per tick, in-process, on a fresh candle for a small sample of the same bots.
    requests.post(
        f"http://127.0.0.1:{sim_port}/sim/clock/advance",
        json={"minutes": int(template.timeframe)},
        timeout=10,
    )
    candles_sync()
    sample = Bot.objects.filter(tenant__name__startswith=f"bench {mode} {bots}-").values_list(
        "id", flat=True
    )[:20]
    Bot.objects.exclude(id__in=list(sample)).update(state=Bot.State.PAUSED)
    queries = []
    for bot_id, candle_start in ticks_dispatch():
        BotTick.objects.filter(bot_id=bot_id, candle_start=candle_start).update(
            status=BotTick.Status.PENDING
        )
        with CaptureQueriesContext(db) as ctx:
            tick_run(bot_id=bot_id, candle_start=candle_start)
        queries.append(len(ctx.captured_queries))
    Bot.objects.all().update(state=Bot.State.STOPPED)
    return {
        "ticks": len(due),
        "seconds": elapsed,
        "ticks_per_s": len(due) / elapsed if elapsed else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": (statistics.quantiles(latencies, n=100)[98] * 1000)
        if len(latencies) >= 100
        else (max(latencies) * 1000 if latencies else 0.0),
        "orders": len(latencies),
        "queries_per_tick": statistics.median(queries) if queries else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--modes", nargs="+", default=["dry_run", "live"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    ensure_database()
    sim, sim_port = start_simulator(tmp)
    os.environ["EXCHANGE_SIMULATOR_PORT"] = str(sim_port)
    os.environ["EXCHANGE_MARKET_DATA_ENVIRONMENT"] = "simulator"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tradingsvc.lib.redis import get_redis

    get_redis().flushdb()
    workers = start_workers(args.workers, tmp)
    time.sleep(4)
    try:
        print(
            f"engine ticks: {args.workers} worker processes (solo pool), simulator on :{sim_port}, 2 cores"
        )
        for mode in args.modes:
            for count in args.bots:
                r = run(count, mode, sim_port)
                print(
                    f"{mode:>7} {count:>5} bots: {r['ticks']} ticks in {r['seconds']:.2f} s = {r['ticks_per_s']:.0f} ticks/s; "
                    f"close->sent p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms over {r['orders']:.0f} orders; "
                    f"{r['queries_per_tick']:.0f} queries/tick"
                )
        for i, w in enumerate(workers):
            print(f"worker {i}: peak RSS {peak_rss_mb(w.pid):.0f} MB")
    finally:
        for proc in (*workers, sim):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (*workers, sim):
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
