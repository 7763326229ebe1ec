"""Exchange admin pages: connections show no secret or sealed value; coverage and shards render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Tenant
from exchange.credentials import credentials_seal
from exchange.models import (
    Candle,
    CandleHole,
    ExchangeConnection,
    MarketDataSubscription,
    StreamShard,
)

pytestmark = pytest.mark.django_db

KEY = "ADMINKEYabcdef123456"
SECRET = "ADMINSECRETzyxwvu9876543210abcdefghij"


def test_connection_admin_never_shows_key_material(operator_client: Client) -> None:
    """List and change pages show the environment, status, last error and key hint only."""
    tenant = Tenant.objects.create(name="Acme")
    conn = ExchangeConnection.objects.create(
        tenant=tenant, environment="testnet", last_error="Bybit did not accept this API key."
    )
    credentials_seal(conn, api_key=KEY, api_secret=SECRET)
    conn.refresh_from_db()
    client = operator_client
    pages = [
        client.get("/admin/exchange/exchangeconnection/"),
        client.get(f"/admin/exchange/exchangeconnection/{conn.pk}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "Bybit testnet" in html and "3456" in html
        for forbidden in (KEY, SECRET, conn.api_key_sealed, conn.api_secret_sealed, "sealed"):
            assert forbidden not in html
    assert "Bybit did not accept" in pages[0].content.decode()


def test_candle_coverage_and_stream_shards_pages(operator_client: Client) -> None:
    """Coverage counts candles and missing ones per environment and pair, and how many of those the
    exchange has no candle for; shards show their last message time."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in (0, 1, 2, 4):  # one missing at i=3
        Candle.objects.create(
            symbol="BTCUSDT",
            interval="1",
            start=start + timedelta(minutes=i),
            open=Decimal(1),
            high=Decimal(1),
            low=Decimal(1),
            close=Decimal(1),
            volume=Decimal(1),
        )
    MarketDataSubscription.objects.create(symbol="BTCUSDT", interval="1", consumer="bot:1")
    CandleHole.objects.create(
        environment="mainnet",
        symbol="BTCUSDT",
        interval="1",
        first_start=start + timedelta(minutes=3),
        last_start=start + timedelta(minutes=3),
    )
    StreamShard.objects.create(shard=0, shards=2, hostname="h1", last_message_at=timezone.now())
    client = operator_client
    page = client.get("/admin/exchange/candle/")
    assert page.status_code == 200
    coverage = page.context["coverage"]
    assert coverage == [
        {
            "environment": "mainnet",
            "symbol": "BTCUSDT",
            "interval": "1",
            "first": start,
            "last": start + timedelta(minutes=4),
            "count": 4,
            "expected": 5,
            "missing": 1,
            "consumers": 1,
            "at_exchange": 1,
        }
    ]
    holes = client.get("/admin/exchange/candlehole/")
    assert holes.status_code == 200 and "BTCUSDT" in holes.content.decode()
    shards = client.get("/admin/exchange/streamshard/")
    assert shards.status_code == 200 and "h1" in shards.content.decode()
