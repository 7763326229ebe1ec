"""A day of real candles replayed on the stepped clock against resting limit orders, with every
figure (fills, fees, position, realised P&L, wallet) computed by hand below.

The day is 2025-06-01 UTC (the replay start). From the data: BTCUSDT trades 103863.4..104699.0 in
the first six hours and reaches 105843.6 later (low of the day 103696.7); ETHUSDT trades
2490.15..2529.0 in the first six hours and reaches 2546.93 later. So the buys fill in the morning and
the sells later, and the 103000 bid never fills.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal


def _orders(http: Any) -> None:
    for symbol, side, qty, price in [
        ("BTCUSDT", "Buy", "0.010", "104000.0"),
        ("BTCUSDT", "Sell", "0.010", "105500.0"),
        ("BTCUSDT", "Buy", "0.005", "103000.0"),
        ("ETHUSDT", "Buy", "0.50", "2500.00"),
        ("ETHUSDT", "Sell", "0.30", "2545.00"),
    ]:
        http.place_order(
            category="linear",
            symbol=symbol,
            side=side,
            orderType="Limit",
            qty=qty,
            price=price,
            timeInForce="GTC",
            orderLinkId=f"day-{symbol}-{side}-{price.replace('.', '_')}",
        )


def test_day_of_candles_with_resting_limits(simulator: Any) -> None:
    """Resting limits fill as maker at their price when the replay crosses them; the books add up."""
    _, key, secret = simulator.create_account(usdt="100000")
    http = simulator.http(key, secret)
    start = simulator.now()
    _orders(http)
    simulator.advance(minutes=1440)

    execs = http.get_executions(category="linear", limit=100, execType="Trade")["result"]["list"]
    got = sorted((x["symbol"], x["side"], x["execQty"], x["execPrice"]) for x in execs)
    assert got == [
        ("BTCUSDT", "Buy", "0.010", "104000.0"),
        ("BTCUSDT", "Sell", "0.010", "105500.0"),
        ("ETHUSDT", "Buy", "0.50", "2500.00"),
        ("ETHUSDT", "Sell", "0.30", "2545.00"),
    ]
    assert all(start < int(x["execTime"]) <= start + 86_400_000 for x in execs)
    by = {(x["symbol"], x["side"]): x for x in execs}
    assert int(by[("BTCUSDT", "Buy")]["execTime"]) < int(by[("BTCUSDT", "Sell")]["execTime"])
    assert int(by[("ETHUSDT", "Buy")]["execTime"]) < int(by[("ETHUSDT", "Sell")]["execTime"])
    assert {x["isMaker"] for x in execs} == {True}
    assert {x["feeRate"] for x in execs} == {"0.0002"}
    # Maker fee = price x qty x 0.0002.
    assert D(by[("BTCUSDT", "Buy")]["execFee"]) == D("0.208")  # 104000 x 0.010 x 0.0002
    assert D(by[("BTCUSDT", "Sell")]["execFee"]) == D("0.211")  # 105500 x 0.010 x 0.0002
    assert D(by[("ETHUSDT", "Buy")]["execFee"]) == D("0.25")  # 2500 x 0.50 x 0.0002
    assert D(by[("ETHUSDT", "Sell")]["execFee"]) == D("0.1527")  # 2545 x 0.30 x 0.0002

    # The day spans funding times: what open positions paid or received is in cumRealisedPnl
    # and the wallet (SETTLEMENT rows), never in closed P&L.
    log = http.get_transaction_log(accountType="UNIFIED", limit=50)["result"]["list"]
    funding = {
        sym: sum(
            (D(t["funding"]) for t in log if t["type"] == "SETTLEMENT" and t["symbol"] == sym), D(0)
        )
        for sym in ("BTCUSDT", "ETHUSDT")
    }
    assert funding["ETHUSDT"] < 0  # a long pays at a positive rate
    btc = http.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert btc["size"] == "0" and btc["side"] == ""
    # -0.208 + (105500 - 104000) x 0.010 - 0.211
    assert D(btc["cumRealisedPnl"]) == D("14.581") + funding["BTCUSDT"]
    eth = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert eth["side"] == "Buy" and D(eth["size"]) == D("0.20")
    assert D(eth["avgPrice"]) == D("2500")
    # -0.25 + (2545 - 2500) x 0.30 - 0.1527
    assert D(eth["cumRealisedPnl"]) == D("13.0973") + funding["ETHUSDT"]
    mark = D(eth["markPrice"])
    assert D(eth["unrealisedPnl"]) == (mark - D("2500")) * D("0.20")

    closed = {c["symbol"]: c for c in http.get_closed_pnl(category="linear")["result"]["list"]}
    # Closed P&L nets the closing fee and the share of the opening fee for the closed quantity.
    assert D(closed["BTCUSDT"]["closedPnl"]) == D("14.581")  # 15 - 0.211 - 0.208
    assert D(closed["ETHUSDT"]["closedPnl"]) == D("13.1973")  # 13.5 - 0.1527 - 0.25 x 0.3/0.5
    assert closed["ETHUSDT"]["avgEntryPrice"] == "2500"
    assert closed["ETHUSDT"]["avgExitPrice"] == "2545"

    open_orders = http.get_open_orders(category="linear", settleCoin="USDT")["result"]["list"]
    assert [(o["symbol"], o["price"], o["orderStatus"]) for o in open_orders] == [
        ("BTCUSDT", "103000.0", "New")
    ]

    wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    # 100000 + 15 + 13.5 - (0.208 + 0.211 + 0.25 + 0.1527), plus funding
    balance = D("100027.6783") + funding["BTCUSDT"] + funding["ETHUSDT"]
    assert D(wallet["totalWalletBalance"]) == balance
    assert D(wallet["totalPerpUPL"]) == (mark - D("2500")) * D("0.20")
    assert D(wallet["totalEquity"]) == balance + (mark - D("2500")) * D("0.20")
    # Position IM (0.20 x 2500 / 10) + open order IM (0.005 x 103000 / 10)
    assert D(wallet["totalInitialMargin"]) == D("50") + D("51.5")

    trades = [t for t in log if t["type"] == "TRADE"]
    assert len(trades) == 4
    assert sum(D(t["change"]) for t in log) == balance
    assert D(log[0]["cashBalance"]) == balance
    assert [t["type"] for t in log][-1] == "TRANSFER_IN"
