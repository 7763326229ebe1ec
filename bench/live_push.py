"""Live-update latency: from a fill at the simulator to the update arriving in a browser's socket.

    .venv/bin/python bench/live_push.py            # 60 fills
    .venv/bin/python bench/live_push.py --fills 200

The whole path is real: a market order sent with the client's key fills at the simulator (real
clock); the stream runner receives the execution over Bybit's private WebSocket, applies it to the
bot's position and publishes on the channel layer (Redis); daphne forwards it to headless
Chromium signed in on the dashboard. Latency = the browser's arrival time minus the execution's
``execTime`` from the simulator (same machine, same clock). Own database ``bench_live_tradingsvc``
and Redis database 7.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_live_tradingsvc"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "LOG_LEVEL": "WARNING",
        # Playwright's sync API keeps an event loop on this thread; our ORM calls stay synchronous.
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
    }
)


FILL_ARRIVALS = "window.tradingsvcLive.arrivals.filter(a => a.kind === 'fill').map(a => a.at)"


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user="postgres", host="127.0.0.1", autocommit=True
    ) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB_NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fills", type=int, default=60)
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from playwright.sync_api import sync_playwright

    from bots.models import Bot, BotFill, RiskTemplate
    from bots.services.lifecycle import bot_transition
    from bots.services.orders import intent_send, intent_write, order_link_id
    from bots.services.tuning import bot_create
    from exchange.gateway import ExchangeGateway
    from exchange.instruments import instruments_forget
    from exchange.services.keys import exchange_key_connect
    from tests.factories import client_with_2fa
    from tests.fixtures.browser import CHROMIUM, log_in_with_2fa
    from tests.fixtures.live_stack import _spawn, process_env, start_daphne
    from tests.fixtures.simulator import SimulatorHandle

    tmp = Path(tempfile.mkdtemp(prefix="live-push-"))
    sim = SimulatorHandle(tmp / "sim.db", clock="real")
    sim.start()
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": sim.base_url}
    settings.EXCHANGE_MARKET_DATA_ENVIRONMENT = "simulator"
    instruments_forget()
    env = process_env(sim.port)
    processes = []
    try:
        owner = client_with_2fa()
        _uid, key, secret = sim.create_account(usdt="100000")
        connection = exchange_key_connect(
            tenant=owner.tenant,
            environment="simulator",
            api_key=key,
            api_secret=secret,
            by=owner.user,
        )
        bot = bot_create(
            tenant=owner.tenant,
            template=RiskTemplate.objects.get(slug="moderate"),
            name="Push",
            symbol="BTCUSDT",
            connection=connection,
            by=owner.user,
            mode=Bot.Mode.LIVE,
        ).bot
        bot_transition(bot=bot, to=Bot.State.RUNNING, by=owner.user)
        daphne, url = start_daphne(env, tmp)
        processes.append(daphne)
        processes.append(_spawn("streams", [sys.executable, "manage.py", "run_streams"], env, tmp))
        time.sleep(4)  # the runner picks the connection up and subscribes
        gateway = ExchangeGateway.for_connection(connection)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page()
            log_in_with_2fa(page, url, owner)
            page.wait_for_function("window.tradingsvcLive && window.tradingsvcLive.connected")
            latencies = []
            base = datetime(2030, 1, 1, tzinfo=UTC)
            for i in range(args.fills):
                seen = page.evaluate(FILL_ARRIVALS + ".length")
                link = order_link_id(bot.pk, base + timedelta(minutes=i), 0)
                intent = intent_write(
                    link,
                    tenant_id=bot.tenant_id,
                    bot=bot,
                    symbol=bot.symbol,
                    leg=0,
                    side="Buy" if i % 2 == 0 else "Sell",
                    qty=Decimal("0.001"),
                    reason="bench",
                )
                intent_send(intent=intent, gateway=gateway)
                page.wait_for_function(f"{FILL_ARRIVALS}.length > {seen}", timeout=10_000)
                deadline = time.monotonic() + 10
                fill = None
                while fill is None and time.monotonic() < deadline:
                    fill = BotFill.objects.filter(intent=intent).first()
                    time.sleep(0.02)
                arrivals = page.evaluate(FILL_ARRIVALS)
                if fill is None:
                    raise SystemExit(f"fill {i} never applied")
                latencies.append(arrivals[-1] - fill.exec_time.timestamp() * 1000)
                time.sleep(0.1)
            browser.close()
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(f"fills: {len(latencies)}")
        print(
            f"fill at simulator -> browser socket: p50 {statistics.median(latencies):.0f} ms, "
            f"p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms (target p95 < 500 ms)"
        )
    finally:
        for process in processes:
            process.stop()
        sim.stop()


if __name__ == "__main__":
    main()
