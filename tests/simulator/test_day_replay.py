"""A day of real candles replayed on the stepped clock against resting limit orders, with every
figure (fills, fees, position, realised P&L, wallet) computed by hand below.

The day is the 24 hours from the replay start (2025-06-12 11:00 UTC). From the data: BTCUSDT opens
at 107270.9, trades down to 106830.0 in its first hour and first reaches 108000 in its seventh
(high 108400.0; low of the day 102626.9); ETHUSDT opens at 2748.58, trades down to 2709.3 in its
second hour and first reaches 2765 in its fourth (high 2772.01; low 2434.34). So each buy fills
before its sell, and the 102000 bid never fills.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal


def _orders(http: Any) -> None:
    for symbol, side, qty, price in [
        ("BTCUSDT", "Buy", "0.010", "107000.0"),
        ("BTCUSDT", "Sell", "0.010", "108000.0"),
        ("BTCUSDT", "Buy", "0.005", "102000.0"),
        ("ETHUSDT", "Buy", "0.50", "2715.00"),
        ("ETHUSDT", "Sell", "0.30", "2765.00"),
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
        ("BTCUSDT", "Buy", "0.010", "107000.0"),
        ("BTCUSDT", "Sell", "0.010", "108000.0"),
        ("ETHUSDT", "Buy", "0.50", "2715.00"),
        ("ETHUSDT", "Sell", "0.30", "2765.00"),
    ]
    assert all(start < int(x["execTime"]) <= start + 86_400_000 for x in execs)
    by = {(x["symbol"], x["side"]): x for x in execs}
    assert int(by[("BTCUSDT", "Buy")]["execTime"]) < int(by[("BTCUSDT", "Sell")]["execTime"])
    assert int(by[("ETHUSDT", "Buy")]["execTime"]) < int(by[("ETHUSDT", "Sell")]["execTime"])
    assert {x["isMaker"] for x in execs} == {True}
    assert {x["feeRate"] for x in execs} == {"0.0002"}
    # Maker fee = price x qty x 0.0002.
    assert D(by[("BTCUSDT", "Buy")]["execFee"]) == D("0.214")  # 107000 x 0.010 x 0.0002
    assert D(by[("BTCUSDT", "Sell")]["execFee"]) == D("0.216")  # 108000 x 0.010 x 0.0002
    assert D(by[("ETHUSDT", "Buy")]["execFee"]) == D("0.2715")  # 2715 x 0.50 x 0.0002
    assert D(by[("ETHUSDT", "Sell")]["execFee"]) == D("0.1659")  # 2765 x 0.30 x 0.0002

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
    # -0.214 + (108000 - 107000) x 0.010 - 0.216
    assert D(btc["cumRealisedPnl"]) == D("9.570") + funding["BTCUSDT"]
    eth = http.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert eth["side"] == "Buy" and D(eth["size"]) == D("0.20")
    assert D(eth["avgPrice"]) == D("2715")
    # -0.2715 + (2765 - 2715) x 0.30 - 0.1659
    assert D(eth["cumRealisedPnl"]) == D("14.5626") + funding["ETHUSDT"]
    mark = D(eth["markPrice"])
    assert D(eth["unrealisedPnl"]) == (mark - D("2715")) * D("0.20")

    closed = {c["symbol"]: c for c in http.get_closed_pnl(category="linear")["result"]["list"]}
    # Closed P&L nets the closing fee and the share of the opening fee for the closed quantity.
    assert D(closed["BTCUSDT"]["closedPnl"]) == D("9.570")  # 10 - 0.216 - 0.214
    assert D(closed["ETHUSDT"]["closedPnl"]) == D("14.6712")  # 15 - 0.1659 - 0.2715 x 0.3/0.5
    assert closed["ETHUSDT"]["avgEntryPrice"] == "2715"
    assert closed["ETHUSDT"]["avgExitPrice"] == "2765"

    open_orders = http.get_open_orders(category="linear", settleCoin="USDT")["result"]["list"]
    assert [(o["symbol"], o["price"], o["orderStatus"]) for o in open_orders] == [
        ("BTCUSDT", "102000.0", "New")
    ]

    wallet = http.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    # 100000 + 10 + 15 - (0.214 + 0.216 + 0.2715 + 0.1659), plus funding
    balance = D("100024.1326") + funding["BTCUSDT"] + funding["ETHUSDT"]
    assert D(wallet["totalWalletBalance"]) == balance
    assert D(wallet["totalPerpUPL"]) == (mark - D("2715")) * D("0.20")
    assert D(wallet["totalEquity"]) == balance + (mark - D("2715")) * D("0.20")
    # Position IM (0.20 x 2715 / 10) + open order IM (0.005 x 102000 / 10)
    assert D(wallet["totalInitialMargin"]) == D("54.3") + D("51")

    trades = [t for t in log if t["type"] == "TRADE"]
    assert len(trades) == 4
    assert sum(D(t["change"]) for t in log) == balance
    assert D(log[0]["cashBalance"]) == balance
    assert [t["type"] for t in log][-1] == "TRANSFER_IN"
