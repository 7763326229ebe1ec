"""A real Celery worker that also loads ``tests.exchange.tasks`` and talks to a given simulator."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.celery_worker import WorkerProcess, start_worker


def start_gateway_worker(
    tmp_dir: Path, *, sim_port: int, queue: str, concurrency: int = 2
) -> WorkerProcess:
    """A prefork worker consuming only ``queue``: other test sessions' workers share the broker,
    and must not take (and fail) these tasks."""
    return start_worker(
        tmp_dir,
        concurrency=concurrency,
        include="tests.exchange.tasks",
        queue=queue,
        extra_env={"EXCHANGE_SIMULATOR_PORT": str(sim_port)},
        name="gw",
    )
