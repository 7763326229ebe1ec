"""Isolated margin's own liquidation and funding settlement, each on a stepped clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.simulator.helpers import RawSocket, ccxt_bybit, example, shape_diff, table_keys

D = Decimal
MINUTE = 60_000
EIGHT_HOURS = 8 * 3_600_000
EIGHT = D("0.00000001")


def _position(http: Any, symbol: str) -> dict[str, Any]:
    row: dict[str, Any] = http.get_positions(category="linear", symbol=symbol)["result"]["list"][0]
    return row


def test_isolated_position_liquidated_alone(simulator: Any) -> None:
    """A 100x isolated ETH long is liquidated at its own liqPrice (entry x 0.995) while the
    account's cross BTC long stays as it was: no BustTrade, same size and entry."""
    _, key, secret = simulator.create_account(usdt="10000")
    http = simulator.http(key, secret)
    http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010"
    )
    http.set_margin_mode(setMarginMode="ISOLATED_MARGIN")
    http.set_leverage(category="linear", symbol="ETHUSDT", buyLeverage="100", sellLeverage="100")
    http.place_order(category="linear", symbol="ETHUSDT", side="Buy", orderType="Market", qty="1")
    btc_before = _position(http, "BTCUSDT")
    eth = _position(http, "ETHUSDT")
    entry, liq = D(eth["avgPrice"]), D(eth["liqPrice"])
    assert btc_before["tradeMode"] == 0 and eth["tradeMode"] == 1
    assert abs(liq - entry * D("0.995")) <= D("0.01")
    wallet_before = D(
        http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["totalWalletBalance"]
    )

    for _ in range(96):  # up to two days in 30-minute steps
        simulator.advance(minutes=30)
        if _position(http, "ETHUSDT")["size"] == "0":
            break

    bust = http.get_executions(category="linear", execType="BustTrade")["result"]["list"]
    assert [(x["symbol"], x["side"], D(x["execPrice"])) for x in bust] == [("ETHUSDT", "Sell", liq)]
    btc_after = _position(http, "BTCUSDT")
    assert (btc_after["size"], btc_after["avgPrice"]) == (
        btc_before["size"],
        btc_before["avgPrice"],
    )
    assert btc_after["tradeMode"] == 0
    log = http.get_transaction_log(accountType="UNIFIED", limit=50)["result"]["list"]
    liquidation = [t for t in log if t["type"] == "LIQUIDATION"]
    assert len(liquidation) == 1 and liquidation[0]["symbol"] == "ETHUSDT"
    funding = sum((D(t["funding"]) for t in log if t["type"] == "SETTLEMENT"), D(0))
    wallet_after = D(
        http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["totalWalletBalance"]
    )
    # The isolated loss is (liq - entry) x 1 plus the taker fee on the bust fill, nothing more.
    fee = D(bust[0]["execFee"])
    assert wallet_after == wallet_before + (liq - entry) + funding - fee


def test_funding_settles_at_the_funding_time(simulator: Any) -> None:
    """A long pays and a short earns size x mark x 0.01 % at 00/08/16 UTC: in the wallet,
    cumRealisedPnl, a SETTLEMENT log row, an execType Funding execution (REST and push),
    funding/history and the tickers' next funding time; ccxt's funding history reads it."""
    _, key, secret = simulator.create_account(usdt="10000")
    http = simulator.http(key, secret)
    http.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010"
    )
    http.place_order(category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="1")
    now = simulator.now()
    settle_at = now - now % EIGHT_HOURS + EIGHT_HOURS
    wallet_before = D(
        http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["totalWalletBalance"]
    )
    realised_before = {s: D(_position(http, s)["cumRealisedPnl"]) for s in ("BTCUSDT", "ETHUSDT")}
    sock = RawSocket(simulator.ws_url("/v5/private"))
    try:
        sock.auth(key, secret)
        sock.send({"op": "subscribe", "args": ["execution"]})
        sock.recv_until(lambda m: m.get("op") == "subscribe")

        simulator.advance(to=settle_at + MINUTE)

        push = sock.recv_until(lambda m: m.get("topic") == "execution")
    finally:
        sock.close()

    pushed = {x["symbol"]: x for x in push["data"]}
    assert {x["execType"] for x in push["data"]} == {"Funding"}
    # The same fields and types as a trade's push (the topic's table, plus marketUnit).
    exec_doc = example("ws_private_execution.json")
    assert set(pushed["BTCUSDT"]) == table_keys(exec_doc) | {"marketUnit"}
    rest = {
        x["symbol"]: x
        for x in http.get_executions(category="linear", execType="Funding")["result"]["list"]
    }
    assert set(rest) == set(pushed) == {"BTCUSDT", "ETHUSDT"}
    for symbol, size, sign in (("BTCUSDT", D("0.010"), 1), ("ETHUSDT", D("1"), -1)):
        x = rest[symbol]
        mark = D(x["execPrice"])
        expected = sign * (size * mark * D("0.0001")).quantize(EIGHT)
        assert int(x["execTime"]) == settle_at
        assert D(x["execFee"]) == expected and x["feeRate"] == "0.0001"
        assert D(x["execQty"]) == size and x["side"] == ("Buy" if sign > 0 else "Sell")
        assert pushed[symbol]["execFee"] == x["execFee"] and pushed[symbol]["execId"] == x["execId"]
        assert D(_position(http, symbol)["cumRealisedPnl"]) == realised_before[symbol] - expected
    paid = D(rest["BTCUSDT"]["execFee"]) + D(rest["ETHUSDT"]["execFee"])

    wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    assert D(wallet["totalWalletBalance"]) == wallet_before - paid
    rows = http.get_transaction_log(accountType="UNIFIED", type="SETTLEMENT")["result"]["list"]
    trade_row = http.get_transaction_log(accountType="UNIFIED", type="TRADE")["result"]["list"][0]
    assert not (d := shape_diff(trade_row, rows[0])), d  # a SETTLEMENT row is shaped as a TRADE row
    by_symbol = {t["symbol"]: t for t in rows}
    for symbol in ("BTCUSDT", "ETHUSDT"):
        row, x = by_symbol[symbol], rest[symbol]
        assert D(row["funding"]) == -D(x["execFee"]) == D(row["change"])
        assert row["cashFlow"] == "0" and row["fee"] == "0" and row["feeRate"] == "0.0001"
        assert row["transactionTime"] == str(settle_at) and row["tradeId"] == x["execId"]
    assert D(rows[0]["cashBalance"]) == D(wallet["totalWalletBalance"])

    history = http.get_funding_rate_history(
        category="linear", symbol="BTCUSDT", endTime=settle_at + MINUTE, limit=1
    )["result"]["list"]
    assert history == [
        {"symbol": "BTCUSDT", "fundingRate": "0.0001", "fundingRateTimestamp": str(settle_at)}
    ]
    ticker = http.get_tickers(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert ticker["nextFundingTime"] == str(settle_at + EIGHT_HOURS)
    assert ticker["fundingRate"] == "0.0001"
    flows = ccxt_bybit(simulator, key, secret).fetch_funding_history("ETH/USDT:USDT")
    assert [(f["amount"], f["rate"]) for f in flows] == [
        (float(rest["ETHUSDT"]["execFee"]), 0.0001)
    ]
