"""The real and fast clocks, and the account command beside a running server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fixtures.simulator import ROOT, SimulatorHandle


def test_fast_clock_runs_at_speed(tmp_path: Path) -> None:
    """At 600x, two wall seconds move the market about twenty minutes and it trades meanwhile."""
    sim = SimulatorHandle(tmp_path / "fast.db", clock="fast", speed=600)
    sim.start()
    try:
        _, key, secret = sim.create_account(usdt="1000")
        start = sim.now()
        time.sleep(2)
        moved = sim.now() - start
        assert 1_000_000 <= moved <= 1_800_000
        http = sim.http(key, secret)
        rows = http.get_kline(category="linear", symbol="BTCUSDT", interval="1", limit=5)
        assert int(rows["result"]["list"][0][0]) >= start + 15 * 60_000 - 60_000
        clock = sim.admin("GET", "/sim/clock")
        assert clock["processed_to"] > start
    finally:
        sim.stop()


def test_real_clock_follows_wall_time(tmp_path: Path) -> None:
    """Market time is wall time; the newest 1m kline is the current wall-clock minute."""
    sim = SimulatorHandle(tmp_path / "real.db", clock="real")
    sim.start()
    try:
        assert abs(sim.now() - time.time() * 1000) < 2000
        http = sim.http(*sim.create_account(usdt="1")[1:])
        newest = int(
            http.get_kline(category="linear", symbol="ETHUSDT", interval="1", limit=1)["result"][
                "list"
            ][0][0]
        )
        assert abs(newest - (int(time.time() * 1000) // 60_000) * 60_000) <= 60_000
    finally:
        sim.stop()


def test_account_command_while_serving(simulator: Any) -> None:
    """Keys written by the command while the server runs work at once; uids never collide."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "exchange.simulator",
            "account",
            "--state",
            str(simulator.state),
            "--usdt",
            "42",
            "--read-only",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    made = json.loads(out)
    http = simulator.http(made["api_key"], made["api_secret"])
    info = http.get_api_key_information()["result"]
    assert info["readOnly"] == 1 and info["userID"] == made["uid"]
    wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    assert wallet["totalWalletBalance"] == "42"
    uid, _, _ = simulator.create_account(usdt="1")
    assert uid != made["uid"]
    state = simulator.admin("GET", f"/sim/accounts/{made['uid']}")
    assert state["keys"][0]["read_only"] is True
