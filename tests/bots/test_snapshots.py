"""Equity snapshots: the tenant's from the exchange wallet, each bot's from its own trades."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import BotPosition, EquitySnapshot
from bots.services.reconcile import reconcile_connection
from bots.services.snapshots import snapshot_connection
from exchange.gateway import ExchangeGateway
from exchange.models import Candle
from tests.fixtures.engine import filled_live_bot

pytestmark = pytest.mark.django_db(transaction=True)


def test_snapshots_match_the_wallet_and_the_bots_position(sim, owner):
    _uid, connection, bot = filled_live_bot(sim, owner)
    reconcile_connection(connection=connection)

    tenant_snapshot = snapshot_connection(connection=connection)
    wallet = ExchangeGateway.for_connection(connection).wallet_balance()
    assert tenant_snapshot.equity == wallet.total_equity
    bot_snapshot = EquitySnapshot.objects.get(bot=bot)
    position = BotPosition.objects.get(bot=bot)
    last_close = (
        Candle.objects.filter(symbol="BTCUSDT", interval=bot.timeframe)
        .order_by("-start")
        .first()
        .close
    )
    assert bot_snapshot.unrealised_pnl == position.qty * (last_close - position.avg_price)
    assert bot_snapshot.realised_pnl == position.realised_pnl
    assert (
        position.fees > 0 and position.realised_pnl == -position.fees
    )  # only the entry fee so far
    assert bot_snapshot.equity == position.realised_pnl + bot_snapshot.unrealised_pnl
    assert isinstance(bot_snapshot.equity, Decimal)
