"""A real Celery worker that also loads ``tests.exchange.tasks`` and talks to a given simulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.fixtures.celery_worker import (
    READY_TIMEOUT_SECONDS,
    ROOT,
    WorkerProcess,
    test_database_url,
)


def start_gateway_worker(
    tmp_dir: Path, *, sim_port: int, queue: str, concurrency: int = 2
) -> WorkerProcess:
    """A prefork worker consuming only ``queue``: other test sessions' workers share the broker,
    and must not take (and fail) these tasks."""
    from ops.heartbeat import live_workers

    hostname = f"gw-{uuid.uuid4().hex[:8]}@localhost"
    log_path = tmp_dir / f"worker-{hostname.split('@')[0]}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.test",
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
        "EXCHANGE_SIMULATOR_PORT": str(sim_port),
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "tradingsvc", "worker",
        "-P", "prefork", "-c", str(concurrency), "-l", "INFO", "--hostname", hostname,
        "--include", "tests.exchange.tasks", "--without-mingle", "--without-gossip",
        "--prefetch-multiplier", "1", "-Q", queue,
    ]  # fmt: skip
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = WorkerProcess(hostname=hostname, process=process, log_path=log_path)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while hostname not in live_workers():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker did not become ready:\n{worker.log_text()[-4000:]}")
        time.sleep(0.2)
    return worker
