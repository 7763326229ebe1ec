"""The dashboard and performance pages cost the same number of queries whatever the history, and
the equity chart sends a bounded number of points whatever the range."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.models import RiskTemplate
from bots.services.tuning import bot_create
from demo.perf_data import seed_history
from reports.selectors import MAX_POINTS
from tests.factories import client_with_2fa, login_with_2fa

pytestmark = pytest.mark.django_db
URLS = [
    "/app/",
    "/app/live/",
    "/app/performance/?range=1w",
    "/app/performance/?range=3m",
    "/app/performance/?range=all",
    "/app/history/",
    "/app/history/?kind=fills",
]


def _queries(client: Client) -> dict[str, int]:
    counts = {}
    for url in URLS:
        client.get(url)  # warm: session, caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        counts[url] = len(captured)
    return counts


def test_query_counts_do_not_grow_with_history_and_charts_stay_bounded():
    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Trend",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    client = Client()
    login_with_2fa(client, owner)
    now = timezone.now()
    seed_history(bot=bot, orders=40, days=2, now=now - timedelta(days=40))
    small = _queries(client)
    seed_history(bot=bot, orders=4000, days=40, now=now, seed=8)
    large = _queries(client)
    assert small == large, {u: (small[u], large[u]) for u in URLS if small[u] != large[u]}
    for range_key in ("1d", "1w", "1m", "3m", "1y", "all"):
        response = client.get("/app/performance/", {"range": range_key})
        points = len(response.context["chart"]["equity"]["x"])
        assert 0 < points <= MAX_POINTS, (range_key, points)
