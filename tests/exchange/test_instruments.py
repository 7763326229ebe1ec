"""Instrument rules come from the exchange once, are shared through Redis, and quantise orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exchange.instruments import (
    instrument_get,
    instruments_forget,
    quantize_price,
    quantize_qty,
)
from tradingsvc.lib.redis import get_redis

pytestmark = pytest.mark.django_db


def test_rules_are_fetched_cached_and_quantise(sim: Any) -> None:
    """BTCUSDT's tick 0.10 and lot 0.001 come from the simulator; a second process reads Redis."""
    get_redis().delete("xinstruments:simulator")
    instruments_forget()
    btc = instrument_get("simulator", "BTCUSDT")
    assert btc.tick_size == Decimal("0.10") and btc.qty_step == Decimal("0.001")
    assert btc.max_qty == Decimal("1190") and btc.max_leverage == Decimal("100")
    assert get_redis().get("xinstruments:simulator") is not None
    instruments_forget()  # as another process would start: from Redis, no exchange call
    assert instrument_get("simulator", "ETHUSDT").tick_size == Decimal("0.01")
    assert quantize_price(btc, Decimal("100000.07")) == Decimal("100000.0")
    assert quantize_price(btc, Decimal("100000.01"), side="Sell") == Decimal("100000.1")
    assert quantize_qty(btc, Decimal("0.0019")) == Decimal("0.001")
    assert btc.qty_problem(Decimal("1191"), Decimal("100")) is not None
    assert btc.qty_problem(Decimal("0.001"), Decimal("100000")) is None
