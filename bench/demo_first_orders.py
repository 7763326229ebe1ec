"""Time from "demo is up" to each demo bot's first order, over several fresh demo starts.

    .venv/bin/python bench/demo_first_orders.py              # 10 starts, 90 s target
    .venv/bin/python bench/demo_first_orders.py --runs 3 --wait 150

Each run starts ``bin/demo`` as a newcomer would (an empty ``DEMO_DIR`` in a temporary folder, so
no database, simulator state or candles from an earlier run) on free ports of its own (web, the
embedded Redis, the simulator), so it never touches another demo. From the moment the launcher
prints "demo is up" it polls the demo's SQLite database for each bot's first order intent that the
simulator accepted (sent, filled or partially filled), stops the demo with Ctrl-C (SIGINT) and
prints one line per run: every bot's seconds from "demo is up" to its first order, or "none" when
it placed none within ``--wait`` seconds. The last line says whether every bot of every run
ordered within ``--target`` seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACED = ("sent", "filled", "partially_filled")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def first_orders(db: Path) -> tuple[dict[str, str], dict[str, datetime]]:
    """(bot id -> name, bot id -> its first accepted order's creation time), read-only."""
    if not db.exists():
        return {}, {}
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return {}, {}
    try:
        names = {str(i): n for i, n in con.execute("SELECT id, name FROM bots_bot")}
        placeholders = ",".join("?" * len(PLACED))
        rows = con.execute(
            f"SELECT bot_id, MIN(created_at) FROM bots_orderintent WHERE state IN ({placeholders}) "  # noqa: S608 - fixed placeholders
            "GROUP BY bot_id",
            PLACED,
        ).fetchall()
    except sqlite3.Error:
        return {}, {}
    finally:
        con.close()
    found = {}
    for bot_id, created in rows:
        at = datetime.fromisoformat(str(created))
        found[str(bot_id)] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return names, found


def one_run(number: int, wait: float, speed: float) -> dict[str, float | None]:
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        demo_dir = Path(tmp) / "demo"
        web, redis_port, sim_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "DEMO_DIR": str(demo_dir),
            "DEMO_REDIS_PORT": str(redis_port),
            "EXCHANGE_SIMULATOR_PORT": str(sim_port),
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "TEST_DB_SUFFIX"):
            env.pop(name, None)
        log_path = Path(tmp) / "demo.log"
        argv = ["bin/demo", "--port", str(web), "--speed", f"{speed:g}"]
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
        )
        up = threading.Event()
        up_at: list[datetime] = []

        def read() -> None:
            assert process.stdout is not None  # noqa: S101
            with log_path.open("w") as log:
                for line in process.stdout:
                    log.write(line)
                    if "tradingsvc demo is up" in line and not up.is_set():
                        up_at.append(datetime.now(UTC))
                        up.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if not up.wait(300):
                raise SystemExit(f"run {number}: the demo did not come up; see {log_path}")
            deadline = time.monotonic() + wait
            names: dict[str, str] = {}
            found: dict[str, datetime] = {}
            while time.monotonic() < deadline:
                names, found = first_orders(demo_dir / "tradingsvc.sqlite3")
                if names and set(found) >= set(names):
                    break
                time.sleep(0.5)
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            reader.join(5)
        return {
            names[b]: ((found[b] - up_at[0]).total_seconds() if b in found else None)
            for b in sorted(names, key=int)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--wait", type=float, default=150.0, help="seconds to watch each run")
    parser.add_argument("--target", type=float, default=90.0)
    parser.add_argument("--speed", type=float, default=60.0, help="the simulator's clock speed")
    args = parser.parse_args()
    worst: float | None = 0.0
    for number in range(1, args.runs + 1):
        times = one_run(number, args.wait, args.speed)
        shown = ", ".join(
            f"{name}: {'none' if t is None else f'{t:.1f} s'}" for name, t in times.items()
        )
        print(f"run {number:2d}: {shown}", flush=True)
        for t in times.values():
            worst = None if t is None or worst is None else max(worst, t)
    verdict = "no order" if worst is None else f"{worst:.1f} s"
    ok = worst is not None and worst <= args.target
    print(
        f"slowest first order over {args.runs} runs: {verdict} (target {args.target:g} s): "
        f"{'holds' if ok else 'does not hold'}"
    )


if __name__ == "__main__":
    main()
