"""The gateway's interface end to end on the simulator: typed results, Decimal money, aware UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest

from exchange.errors import OrderNotFoundError
from exchange.gateway import ExchangeGateway
from exchange.types import OrderRequest
from tests.exchange.helpers import below_market, gateway_for

pytestmark = pytest.mark.django_db


def test_account_reads_are_typed(sim: Any) -> None:
    """api_key_info gives uid, permissions by Bybit's names and the derived flags; wallet is Decimal."""
    uid, key, secret = sim.create_account(usdt="1234.5", withdraw=True)
    gw = gateway_for(key, secret)
    info = gw.api_key_info()
    assert info.uid == str(uid) and info.read_only is False
    assert info.permissions["ContractTrade"] == ["Order", "Position"]
    assert info.can_withdraw is True and info.can_trade_derivatives is True
    assert info.expires_at is None and info.ips == ["*"] and info.api_key_last4 == key[-4:]
    _, ro_key, ro_secret = sim.create_account(read_only=True)
    ro = gateway_for(ro_key, ro_secret).api_key_info()
    assert ro.read_only is True and ro.can_trade_derivatives is False and ro.can_withdraw is False
    wallet = gw.wallet_balance()
    assert wallet.equity == Decimal("1234.5") and wallet.available == Decimal("1234.5")
    assert wallet.coins["USDT"].wallet_balance == Decimal("1234.5")


def test_market_data_is_typed(sim: Any) -> None:
    pub = ExchangeGateway.public("simulator")
    now = pub.server_time()
    assert now.tzinfo is UTC
    klines = pub.klines("BTCUSDT", "1", limit=5)
    assert len(klines) == 5 and klines[0].start < klines[-1].start
    assert klines[1].start - klines[0].start == timedelta(minutes=1)
    assert isinstance(klines[0].close, Decimal)
    (ticker,) = pub.tickers("BTCUSDT")
    assert ticker.last_price > 0
    symbols = {i.symbol for i in pub.instruments()}
    assert {"BTCUSDT", "ETHUSDT"} <= symbols


def test_order_lifecycle(sim: Any) -> None:
    """Place, amend, find, cancel, cancel-all, leverage (twice), fill, position, TP/SL, logs."""
    _, key, secret = sim.create_account(usdt="100000")
    gw = gateway_for(key, secret)
    price = below_market(sim)
    link = f"l-{uuid.uuid4().hex[:12]}"
    ack = gw.place_order(
        OrderRequest("BTCUSDT", "Buy", "Limit", Decimal("0.002"), link, price=price)
    )
    assert ack.order_link_id == link and ack.order_id
    gw.amend_order("BTCUSDT", order_link_id=link, qty=Decimal("0.003"))
    order = gw.get_order("BTCUSDT", order_link_id=link)
    assert order is not None and order.qty == Decimal("0.003") and order.is_open
    assert [o.order_link_id for o in gw.open_orders("BTCUSDT")] == [link]
    gw.cancel_order("BTCUSDT", order_link_id=link)
    cancelled = gw.get_order("BTCUSDT", order_link_id=link)
    assert cancelled is not None and cancelled.status == "Cancelled"
    with pytest.raises(OrderNotFoundError):
        gw.cancel_order("BTCUSDT", order_link_id=link)
    assert gw.get_order("BTCUSDT", order_link_id="never-sent") is None
    for i in range(2):
        gw.place_order(
            OrderRequest("BTCUSDT", "Buy", "Limit", Decimal("0.001"), f"{link}-{i}", price=price)
        )
    assert len(gw.cancel_all_orders("BTCUSDT")) == 2

    gw.set_leverage("BTCUSDT", Decimal("5"))
    gw.set_leverage("BTCUSDT", Decimal("5"))  # "not modified" is success
    gw.place_order(OrderRequest("BTCUSDT", "Buy", "Market", Decimal("0.01"), f"{link}-m"))
    (pos,) = [p for p in gw.positions("BTCUSDT") if p.size]
    assert pos.side == "Buy" and pos.size == Decimal("0.01") and pos.leverage == Decimal("5")
    gw.set_trading_stop(
        "BTCUSDT", stop_loss=(pos.avg_price * Decimal("0.8")).quantize(Decimal("0.1"))
    )
    assert gw.positions("BTCUSDT")[0].stop_loss > 0
    gw.place_order(
        OrderRequest("BTCUSDT", "Sell", "Market", Decimal("0.01"), f"{link}-c", reduce_only=True)
    )
    fills = gw.executions(symbol="BTCUSDT")
    assert {e.order_link_id for e in fills.items} == {f"{link}-m", f"{link}-c"}
    assert all(e.exec_time.tzinfo is UTC and e.exec_fee > 0 for e in fills.items)
    pnl = gw.closed_pnl(symbol="BTCUSDT")
    assert len(pnl.items) == 1 and pnl.items[0].qty == Decimal("0.01")
    log = gw.transaction_log()
    assert {t.type for t in log.items} >= {"TRADE"}
