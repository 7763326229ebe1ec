"""Engine throughput: N bots ticked by two real Celery worker processes against the simulator.

    .venv/bin/python bench/engine_ticks.py                 # 100 and 1,000 bots, dry run and live
    .venv/bin/python bench/engine_ticks.py --bots 5000 --modes dry_run

For each (bot count, mode) it creates the bots on one template (so one shared signal per candle),
closes one candle, dispatches, and waits until every tick is done. It prints:

- the time from the start of the dispatch of the closed candle until no tick is pending (every
  order answered, or simulated), and when the last tick wrote its result;
- p50/p99/max from the dispatch to each order being claimed for sending (``sent_at``, written just
  before the limiter admits the request) or simulated, and how the orders ended;
- database queries per tick, counted in-process on extra sample bots run through the workers' code
  path (``ticks_run`` on chunks of ``TICK_BATCH_SIZE``) with the whole fleet in the database: on a
  tick that orders and on the next one;
- the CPU time the workers spent from the dispatch until no tick was pending (on a shared machine
  it varies less than the wall time);
- the peak memory (VmHWM) of each worker process.

The first candle is closed only once every worker beats and the queue is empty: a worker needs
6-8 s of CPU to start (Django, Celery, the ASGI stack), and the fixed 4 s wait this replaced let
the timing include the workers' own start whenever they were slower than the fleet's creation.

It uses its own PostgreSQL database (``bench_tradingsvc``) and Redis database 12, so it never
touches test or demo data. Live bots each get their own simulator account; the gateway's per-IP
budget (``EXCHANGE_IP_BUDGET``, 550 of Bybit's 600 requests / 5 s) applies, as in production.
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
        [
            sys.executable,
            "-m",
            "exchange.simulator",
            "serve",
            "--port",
            str(port),
            "--state",
            str(tmp / "sim.sqlite3"),
            "--clock",
            "stepped",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
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


def wait_for_workers(count: int, timeout: float = 120.0) -> float:
    """Seconds until every worker beats and the queue is empty (their start-up tasks are done).

    A worker takes several seconds of CPU to start (Django, Celery, the ASGI stack), and more on a
    busy machine: without this wait the timing of the first candle included the workers' start."""
    from bots.tasks import tick_batch
    from ops.heartbeat import live_workers
    from tradingsvc.lib.redis import get_redis

    started = time.monotonic()
    queue = str(tick_batch.app.conf.task_default_queue)
    while time.monotonic() - started < timeout:
        ready = [name for name in live_workers() if name.startswith("bench")]
        if len(ready) >= count and get_redis().llen(queue) == 0:
            time.sleep(1)  # the start-up reconciliation a worker is still running
            return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError("the workers did not start")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_bots(count: int, mode: str, sim_port: int, label: str, state: str) -> list[int]:
    """``count`` bots on the moderate template; live ones each get their own simulator account."""
    from decimal import Decimal

    import requests
    from django.utils import timezone

    from accounts.models import Tenant
    from bots.models import Bot, EquitySnapshot, RiskTemplate
    from exchange.credentials import credentials_seal
    from exchange.models import ExchangeConnection
    from exchange.services.accounts import exchange_account_attach

    # Trend following enters on the first tick when flat, so every bot places one order.
    template = RiskTemplate.objects.get(slug="moderate")
    made = []
    for i in range(count):
        tenant = Tenant.objects.create(name=f"{label}-{i}")
        connection = None
        if mode == "live":
            account = requests.post(
                f"http://127.0.0.1:{sim_port}/sim/accounts", json={"usdt": "100000"}, timeout=10
            ).json()
            connection = ExchangeConnection(
                tenant=tenant,
                environment="simulator",
                status="active",
                exchange_uid=str(account["uid"]),
            )
            exchange_account_attach(connection=connection)  # as key validation does
            connection.save()
            credentials_seal(
                connection, api_key=account["api_key"], api_secret=account["api_secret"]
            )
            EquitySnapshot.objects.create(
                tenant=tenant,
                account=connection.account,
                at=timezone.now(),
                equity=Decimal("100000"),
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
                state=state,
                risk_per_trade=template.risk_per_trade,
                max_position_multiple=template.max_position_multiple,
                max_leverage=template.max_leverage,
                daily_loss_limit=template.daily_loss_limit,
                max_drawdown=template.max_drawdown,
                default_stop_fraction=template.default_stop_fraction,
            )
        )
    return [bot.pk for bot in Bot.objects.bulk_create(made, batch_size=500)]


def next_candle(sim_port: int) -> None:
    import requests

    from bots.models import RiskTemplate
    from exchange.models import Candle
    from exchange.services.candles import candles_sync

    interval = RiskTemplate.objects.get(slug="moderate").timeframe
    stored = Candle.objects.filter(environment="simulator", symbol="BTCUSDT", interval=interval)
    newest_before = stored.order_by("-start").values_list("start", flat=True).first()
    requests.post(
        f"http://127.0.0.1:{sim_port}/sim/clock/advance",
        json={"minutes": int(interval)},
        timeout=10,
    )
    # A worker may hold the pair's sync lock (the backfill a new subscription asks for at once):
    # then this sync skips the pair, and the closed candle must wait for the next one.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        candles_sync()
        newest = stored.order_by("-start").values_list("start", flat=True).first()
        if newest is not None and (newest_before is None or newest > newest_before):
            return
        time.sleep(0.2)
    raise RuntimeError("the closed candle was never stored")


def chunk_queries(sim_port: int) -> tuple[float, float]:
    """Queries per tick of the sample bots, in-process, through the workers' own code path
    (``ticks_run`` on chunks of ``TICK_BATCH_SIZE``): their first tick (every bot orders) and their
    second (dry run holds; live orders again, as its local position only moves with fills)."""
    from unittest import mock

    from django.conf import settings
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from bots.services.ticks import ticks_dispatch, ticks_run

    per_tick = []
    for _ in range(2):
        next_candle(sim_port)
        with mock.patch("bots.tasks.tick_batch.delay"):  # this process runs them, not the workers
            due = ticks_dispatch()
        ids = [bot_id for bot_id, _start in due]
        size = int(settings.TICK_BATCH_SIZE)
        with CaptureQueriesContext(db) as ctx:
            for start in range(0, len(ids), size):
                ticks_run(bot_ids=ids[start : start + size], candle_start=due[0][1])
        per_tick.append(len(ctx.captured_queries) / len(ids))
    return per_tick[0], per_tick[1]


def run(bots: int, mode: str, sim_port: int, sample: int, workers: list[int]) -> dict[str, float]:
    from django.utils import timezone

    from bots.models import Bot, BotTick, OrderIntent, RiskTemplate
    from bots.services.ticks import ticks_dispatch
    from exchange.services.market_data import market_data_subscribe

    label = f"bench {mode} {bots}"
    fleet = make_bots(bots, mode, sim_port, label, Bot.State.RUNNING)
    sampled = make_bots(sample, mode, sim_port, f"{label} sample", Bot.State.PAUSED)
    template = RiskTemplate.objects.get(slug="moderate")
    market_data_subscribe(
        environment="simulator", symbol="BTCUSDT", interval=template.timeframe, consumer="bench"
    )

    next_candle(sim_port)
    cpu_before = sum(cpu_seconds(pid) for pid in workers)
    started = time.monotonic()
    dispatched_at = timezone.now()
    due = ticks_dispatch()
    dispatch_s = time.monotonic() - started
    while BotTick.objects.filter(status=BotTick.Status.PENDING).exists():
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    worker_cpu_s = sum(cpu_seconds(pid) for pid in workers) - cpu_before

    ticks = BotTick.objects.filter(bot_id__in=fleet, candle_start=due[0][1])
    statuses = dict.fromkeys(BotTick.Status.values, 0)
    for status in ticks.values_list("status", flat=True):
        statuses[status] += 1
    last_finished = max(t for t in ticks.values_list("finished_at", flat=True) if t is not None)
    intents = OrderIntent.objects.filter(bot_id__in=fleet, created_at__gte=dispatched_at)
    latencies = [
        (sent_at - dispatched_at).total_seconds()
        for sent_at in intents.exclude(sent_at=None).values_list("sent_at", flat=True)
    ]
    states = dict.fromkeys(OrderIntent.State.values, 0)
    for state in intents.values_list("state", flat=True):
        states[state] += 1

    # Queries per tick, in-process, on the sample bots only (the fleet stays in the database).
    Bot.objects.filter(pk__in=fleet).update(state=Bot.State.PAUSED)
    Bot.objects.filter(pk__in=sampled).update(state=Bot.State.RUNNING)
    order_queries, hold_queries = chunk_queries(sim_port)
    Bot.objects.filter(pk__in=[*fleet, *sampled]).update(state=Bot.State.STOPPED)
    return {
        "ticks": len(due),
        "dispatch_s": dispatch_s,
        "worker_cpu_s": worker_cpu_s,
        "seconds": elapsed,
        "last_finished_s": (last_finished - dispatched_at).total_seconds(),
        "ticks_per_s": len(due) / elapsed if elapsed else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": (statistics.quantiles(latencies, n=100)[98] * 1000)
        if len(latencies) >= 100
        else (max(latencies) * 1000 if latencies else 0.0),
        "max_ms": max(latencies) * 1000 if latencies else 0.0,
        "orders": len(latencies),
        "done": statuses["done"],
        "failed": statuses["failed"],
        "sent": states["sent"] + states["filled"] + states["partially_filled"],
        "simulated": states["simulated"],
        "unknown": states["unknown"],
        "rejected": states["rejected"],
        "order_queries": order_queries,
        "hold_queries": hold_queries,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bots", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--modes", nargs="+", default=["dry_run", "live"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--sample", type=int, default=25, help="extra bots whose queries per tick are counted"
    )
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
    from django.conf import settings

    workers = start_workers(args.workers, tmp)
    try:
        ready_s = wait_for_workers(args.workers)
        print(
            f"engine ticks: {args.workers} worker processes (solo pool, ready after {ready_s:.1f} s), "
            f"simulator on :{sim_port}, 2 cores"
        )
        for mode in args.modes:
            for count in args.bots:
                r = run(count, mode, sim_port, args.sample, [w.pid for w in workers])
                print(
                    f"{mode:>7} {count:>5} bots: {r['ticks']} ticks, all done {r['seconds']:.2f} s after the "
                    f"dispatch began ({r['ticks_per_s']:.0f} ticks/s; dispatch itself {r['dispatch_s'] * 1000:.0f} ms; "
                    f"last tick finished at {r['last_finished_s']:.2f} s; workers' CPU {r['worker_cpu_s']:.2f} s)\n"
                    f"{'':>19}orders: {r['orders']:.0f} (sent {r['sent']:.0f}, simulated {r['simulated']:.0f}, "
                    f"unknown {r['unknown']:.0f}, rejected {r['rejected']:.0f}); dispatch->order claimed for "
                    f"sending p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms max {r['max_ms']:.0f} ms; "
                    f"ticks done {r['done']:.0f}, failed {r['failed']:.0f}\n"
                    f"{'':>19}queries/tick (chunks of {settings.TICK_BATCH_SIZE}, {args.sample} sample bots): "
                    f"{r['order_queries']:.1f} on a tick that orders, {r['hold_queries']:.1f} on the next"
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
