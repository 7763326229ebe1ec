"""Seeded random trading in process, then the books must balance: the wallet equals the
transaction log, positions equal the sum of fills, and a reload from SQLite sees the same state."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from exchange.simulator.clock import SimClock, wall_ms
from exchange.simulator.engine import Engine
from exchange.simulator.errors import BybitError
from exchange.simulator.instruments import INSTRUMENTS
from exchange.simulator.market_data import MINUTE, REPLAY_START_HIST, MarketData
from exchange.simulator.store import Store

D = Decimal
SEED = 20260601


@pytest.fixture(scope="module")
def market() -> MarketData:
    clock = SimClock.start("stepped", 1.0, None, None)
    return MarketData.load(clock.offset)


def _random_session(engine: Engine, clock: SimClock, rng: random.Random, uids: list[int]) -> None:
    for _ in range(300):
        uid = rng.choice(uids)
        symbol = rng.choice(list(INSTRUMENTS))
        inst = INSTRUMENTS[symbol]
        last = engine.last[symbol]
        roll = rng.random()
        try:
            if roll < 0.45:
                side = rng.choice(["Buy", "Sell"])
                kind = rng.choice(["Market", "Limit", "Limit"])
                qty = inst.min_qty * rng.randint(1, 20)
                params = {
                    "category": "linear",
                    "symbol": symbol,
                    "side": side,
                    "orderType": kind,
                    "qty": str(qty),
                    "reduceOnly": rng.random() < 0.15,
                    "timeInForce": rng.choice(["GTC", "GTC", "IOC", "PostOnly", "FOK"]),
                }
                if kind == "Limit":
                    offset = D(rng.randint(-300, 300)) / 100000
                    params["price"] = str(inst.round_price(last * (1 + offset)))
                if rng.random() < 0.1 and side == "Buy":
                    params["takeProfit"] = str(inst.round_price(last * D("1.002")))
                    params["stopLoss"] = str(inst.round_price(last * D("0.998")))
                engine.place_order(uid, params)
            elif roll < 0.6:
                open_ = [o for o in engine.open_orders[uid].values() if o.status != "Untriggered"]
                if open_:
                    engine.cancel_order(
                        uid, {"symbol": open_[0].symbol, "orderId": open_[0].order_id}
                    )
            elif roll < 0.7:
                open_ = [
                    o
                    for o in engine.open_orders[uid].values()
                    if o.status in ("New", "PartiallyFilled") and o.order_type == "Limit"
                ]
                if open_:
                    o = open_[-1]
                    tick = INSTRUMENTS[o.symbol].tick_size
                    engine.amend_order(
                        uid,
                        {
                            "symbol": o.symbol,
                            "orderId": o.order_id,
                            "price": str(o.price - tick * rng.randint(1, 50)),
                        },
                    )
            else:
                now = clock.now() + rng.randint(1, 20) * MINUTE // 4
                clock.set_sim(now)
                engine.advance_to(now)
        except BybitError:
            pass  # rejected orders are part of the game (margin, reduce-only, ...)
        engine.drain_events()


def test_books_balance_after_random_trading(tmp_path: Path, market: MarketData) -> None:
    store = Store(tmp_path / "inv.db")
    # An hour before a funding time (00, 08, 16 UTC), on the same replayed market whatever the
    # hour the test runs at, so the session always spans a settlement.
    eight_hours = 8 * 60 * MINUTE
    start = (wall_ms() // eight_hours + 1) * eight_hours - 60 * MINUTE
    clock = SimClock.start("stepped", 1.0, start, start - REPLAY_START_HIST)
    engine = Engine(store, clock, market)
    uids = [engine.create_account(D("50000"), False, False)[0].uid for _ in range(3)]
    _random_session(engine, clock, random.Random(SEED), uids)
    engine.flush()
    fills = sum(len(engine.executions[u]) for u in uids)
    assert fills > 50  # the session really traded

    for uid in uids:
        log = engine.tx_log[uid]
        deposits = sum((t.change for t in log if t.type == "TRANSFER_IN"), D(0))
        # Trades and funding settlements (the session spans funding times) move the wallet.
        trades = [t for t in log if t.type in ("TRADE", "SETTLEMENT")]
        assert any(t.type == "SETTLEMENT" for t in log)
        assert engine.accounts[uid].wallet_balance == deposits + sum(
            (t.change for t in trades), D(0)
        )
        assert log[-1].cash_balance == engine.accounts[uid].wallet_balance
        for symbol in INSTRUMENTS:
            pos = engine.position(uid, symbol)
            execs = [x for x in engine.executions[uid] if x.symbol == symbol]
            trade_fills = [x for x in execs if x.exec_type != "Funding"]
            signed = sum(
                (x.exec_qty if x.side == "Buy" else -x.exec_qty for x in trade_fills), D(0)
            )
            assert pos.size == signed
            realised = sum((t.change for t in trades if t.symbol == symbol), D(0))
            assert pos.cum_realised_pnl == realised
            fees = sum((x.exec_fee for x in execs), D(0))
            gross = sum((x.exec_pnl for x in execs), D(0))
            assert realised == gross - fees
        for o in engine.orders_by_uid[uid]:
            mine = [x for x in engine.executions[uid] if x.order_id == o.order_id]
            assert o.cum_exec_qty == sum((x.exec_qty for x in mine), D(0))
            assert o.cum_exec_qty <= o.qty
            if o.is_open:
                assert o.order_id in engine.open_orders[uid]
            else:
                assert o.order_id not in engine.open_orders[uid]

    reloaded = Engine(Store(tmp_path / "inv.db"), clock, market)
    for uid in uids:
        assert reloaded.accounts[uid] == engine.accounts[uid]
        for symbol in INSTRUMENTS:
            assert reloaded.position(uid, symbol) == engine.position(uid, symbol)
        assert reloaded.executions[uid] == engine.executions[uid]
        assert set(reloaded.open_orders[uid]) == set(engine.open_orders[uid])
        assert [o.status for o in reloaded.orders_by_uid[uid]] == [
            o.status for o in engine.orders_by_uid[uid]
        ]
    book_ids = {
        o.order_id
        for b in reloaded.books.values()
        for ladder in (b.bids, b.asks, b.rise, b.fall)
        for level in ladder.levels.values()
        for o in level.values()
    }
    assert book_ids == {oid for uid in uids for oid in engine.open_orders[uid]}
