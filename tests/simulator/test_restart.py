"""State survives a real process restart: accounts, keys, orders, positions and the clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def test_restart_keeps_accounts_orders_positions(simulator: Any) -> None:
    """Kill and restart the subprocess on the same state file; everything is still there."""
    _, key, secret = simulator.create_account(usdt="5000")
    http = simulator.http(key, secret)
    http.set_leverage(category="linear", symbol="BTCUSDT", buyLeverage="5", sellLeverage="5")
    http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.01"
    )
    resting = http.place_order(
        category="linear",
        symbol="ETHUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.10",
        price="1500.00",
        orderLinkId="survivor-1",
    )["result"]
    simulator.advance(minutes=3)
    before = {
        "now": simulator.now(),
        "position": http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0],
        "wallet": http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0],
        "execs": http.get_executions(category="linear")["result"]["list"],
        "log": http.get_transaction_log(accountType="UNIFIED")["result"]["list"],
    }
    old_pid = simulator.proc.pid

    simulator.restart()

    assert simulator.proc.pid != old_pid
    http = simulator.http(key, secret)
    assert simulator.now() == before["now"]
    orders = http.get_open_orders(category="linear", orderLinkId="survivor-1")["result"]["list"]
    assert [(o["orderId"], o["orderStatus"], o["price"]) for o in orders] == [
        (resting["orderId"], "New", "1500.00")
    ]
    pos = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    for field in ("size", "avgPrice", "leverage", "cumRealisedPnl", "side", "createdTime"):
        assert pos[field] == before["position"][field], field
    assert pos["leverage"] == "5"
    wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    assert wallet["totalWalletBalance"] == before["wallet"]["totalWalletBalance"]
    assert http.get_executions(category="linear")["result"]["list"] == before["execs"]
    assert http.get_transaction_log(accountType="UNIFIED")["result"]["list"] == before["log"]
    assert Decimal(wallet["totalWalletBalance"]) < Decimal("5000")  # the taker fee was charged
    # A key created before the restart still signs, and orderLinkId uniqueness is remembered.
    dup = http.place_order(
        category="linear",
        symbol="ETHUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.10",
        price="1500.00",
        orderLinkId="next-1",
    )
    assert dup["retCode"] == 0


def test_reset_and_account_commands(tmp_path: Any) -> None:
    """The fixed CLI: ``account --json`` prints one JSON line; ``reset`` empties the state file."""
    import json
    import subprocess
    import sys

    from tests.fixtures.simulator import ROOT, SimulatorHandle

    state = tmp_path / "cli.db"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "exchange.simulator",
            "account",
            "--state",
            str(state),
            "--usdt",
            "250",
            "--withdraw",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 1
    created = json.loads(lines[0])
    assert set(created) == {"uid", "api_key", "api_secret"}
    sim = SimulatorHandle(state)
    sim.start()
    try:
        http = sim.http(created["api_key"], created["api_secret"])
        info = http.get_api_key_information()["result"]
        assert info["readOnly"] == 0 and "Withdraw" in info["permissions"]["Wallet"]
        wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
        assert wallet["totalWalletBalance"] == "250"
    finally:
        sim.stop()
    subprocess.run(
        [sys.executable, "-m", "exchange.simulator", "reset", "--state", str(state)],
        cwd=ROOT,
        check=True,
    )
    sim.start()
    try:
        resp = sim.http(created["api_key"], created["api_secret"])
        from pybit.exceptions import InvalidRequestError

        try:
            resp.get_wallet_balance(accountType="UNIFIED")
        except InvalidRequestError as exc:
            assert exc.status_code == 10003
        else:
            raise AssertionError("a reset state must not know the old key")
    finally:
        sim.stop()
