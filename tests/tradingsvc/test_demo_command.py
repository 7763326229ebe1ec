"""The demo launcher serves the site with the printed operator login and leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from accounts.mfa import totp_code_for_secret

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_with_env(marker: str) -> list[int]:
    """PIDs of every process whose environment mentions ``marker`` (the demo's own folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_demo_serves_pages_admin_accepts_printed_login_and_ctrl_c_leaves_no_process(tmp_path):
    """rundemo on free ports: home 200, healthz ok, simulator up with its account, admin login works;
    SIGINT stops every process."""
    demo_dir = tmp_path / "demo"
    web_port, redis_port, sim_port = free_port(), free_port(), free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
        },
        "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.demo",
        "DEMO_DIR": str(demo_dir),
        "DEMO_REDIS_PORT": str(redis_port),
        "EXCHANGE_SIMULATOR_PORT": str(sim_port),
        "PYTHONUNBUFFERED": "1",
    }
    out_path = tmp_path / "demo.out"
    with out_path.open("w") as out:
        launcher = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo", "--port", str(web_port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while "demo is up" not in out_path.read_text():
            assert launcher.poll() is None, out_path.read_text()
            assert time.monotonic() < deadline, out_path.read_text()
            time.sleep(0.5)
        output = out_path.read_text()
        email = re.search(r"email:\s+(\S+)", output)[1]
        password = re.search(r"password:\s+(\S+)", output)[1]
        totp_secret = re.search(r"TOTP secret:\s+(\S+)", output)[1]
        base = f"http://127.0.0.1:{web_port}"

        assert requests.get(base + "/", timeout=10).status_code == 200
        # The simulator runs on its fast clock with the funded demo account.
        account = json.loads((demo_dir / "simulator-account.json").read_text())
        sim = requests.get(f"http://127.0.0.1:{sim_port}/sim/accounts/{account['uid']}", timeout=10)
        assert sim.status_code == 200, sim.text
        ticker = requests.get(f"http://127.0.0.1:{sim_port}/v5/market/time", timeout=10).json()
        assert ticker["retCode"] == 0
        health = None
        for _ in range(40):  # the worker's first heartbeat may take a moment
            health = requests.get(base + "/healthz", timeout=10)
            if health.status_code == 200:
                break
            time.sleep(0.5)
        assert health is not None and health.status_code == 200, health.text

        session = requests.Session()
        session.get(base + "/admin/login/", timeout=10)
        response = session.post(
            base + "/admin/login/?next=/admin/",
            data={
                "username": email,
                "password": password,
                "otp_token": totp_code_for_secret(totp_secret),
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers={"Referer": base + "/admin/login/"},
            timeout=10,
        )
        assert response.url.rstrip("/").endswith("/admin"), response.url
        assert "Site administration" in response.text

        assert processes_with_env(str(demo_dir)), "the demo's children should be running"
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)

    assert "Stopped." in out_path.read_text()
    leftovers = []
    for _ in range(20):
        leftovers = processes_with_env(str(demo_dir))
        if not leftovers:
            break
        time.sleep(0.5)
    assert leftovers == [], f"processes left behind: {leftovers}"
