"""Server time of the client's heaviest pages for a tenant with a long history.

    .venv/bin/python bench/web_pages.py                     # 100,000 orders, a year of snapshots
    .venv/bin/python bench/web_pages.py --orders 20000 --days 90 --requests 30

Seeds one tenant with ``--orders`` filled orders (and their fills) and ``--days`` of 5-minute
equity snapshots for the account and the bot (``demo.perf_data``), then requests each page through
Django's full stack in-process (middleware, session, 2FA check, queries, template) and prints
p50/p95 milliseconds and the number of database queries per request. It uses its own PostgreSQL
database (``bench_web_tradingsvc``) and Redis database 8.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_web_tradingsvc"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/8",
        "LOG_LEVEL": "WARNING",
    }
)
PAGES = [
    ("dashboard", "/app/"),
    ("dashboard live fragment", "/app/live/"),
    ("performance (3 months)", "/app/performance/"),
    ("performance (week, raw)", "/app/performance/?range=1w"),
    ("performance (year)", "/app/performance/?range=1y"),
    ("performance (all)", "/app/performance/?range=all"),
    ("history (orders)", "/app/history/"),
    ("history (fills, page 500)", "/app/history/?kind=fills&page=500"),
]


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user="postgres", host="127.0.0.1", autocommit=True
    ) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB_NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from bots.models import RiskTemplate
    from bots.services.tuning import bot_create
    from demo.perf_data import seed_history
    from tests.factories import client_with_2fa, login_with_2fa

    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Trend BTC",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    started = time.perf_counter()
    counts = seed_history(bot=bot, orders=args.orders, days=args.days)
    print(f"seeded {counts} in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    client = Client()
    login_with_2fa(client, owner)
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'KiB':>6}")
    for label, url in PAGES:
        client.get(url)  # warm caches, compile templates
        timings = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"{label:32} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f} "
            f"{len(queries):8d} {len(response.content) / 1024:6.0f}"
        )


if __name__ == "__main__":
    main()
