"""The shared limiter: two worker processes on one account, and more tenants than one IP allows."""

from __future__ import annotations

import json
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange.errors import ExchangeError, IpRateLimitedError
from exchange.limiter import reset_limiter
from exchange.types import OrderRequest
from tests.exchange.helpers import below_market, flush_limiter, gateway_for
from tests.exchange.workers import start_gateway_worker
from tests.fixtures.celery_worker import wait_for
from tests.fixtures.simulator import point_settings_at
from tradingsvc.lib.redis import get_redis


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_one_accounts_order_budget(
    simulator: Any, settings: Any, tmp_path: Path
) -> None:
    """Two prefork children burst 15 orders each on one account (Bybit allows 10/s): every order
    is placed, none is answered 10006, and the burst took the 3 s the budget requires."""
    from tests.exchange.tasks import burst_orders

    point_settings_at(settings, simulator)
    flush_limiter()
    _, key, secret = simulator.create_account(usdt="100000")
    price = str(below_market(simulator))
    queue = f"gateway-test-{uuid.uuid4().hex[:8]}"
    worker = start_gateway_worker(tmp_path, sim_port=simulator.port, queue=queue, concurrency=2)
    try:
        started = time.monotonic()
        report_key = f"xtest:burst:{uuid.uuid4().hex}"
        for n in range(2):
            burst_orders.apply_async((key, secret, 15, f"w{n}", price, report_key), queue=queue)
        wait_for(lambda: get_redis().llen(report_key) == 2, timeout=60, message="both bursts")
        results = [json.loads(x) for x in get_redis().lrange(report_key, 0, -1)]
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
    assert [r["errors"] for r in results] == [[], []]
    assert sum(r["placed"] for r in results) == 30
    assert len({r["pid"] for r in results}) == 2, "both worker processes took part"
    assert elapsed >= 2.0  # 30 orders at 10/s cannot go faster than ~2 s
    orders = gateway_for(key, secret).open_orders("BTCUSDT")
    assert len(orders) == 30


def test_more_tenants_than_the_ip_budget_are_queued_not_banned(
    simulator: Any, settings: Any
) -> None:
    """The simulator allows 20 requests per 5 s from our IP (and bans on the 21st). Eight tenants
    each send 4 requests at once (32): the limiter queues them into the next window, with no 403
    and no 10006. The same burst without the limiter gets the IP banned."""
    point_settings_at(settings, simulator)
    settings.EXCHANGE_IP_BUDGET = 20
    flush_limiter()
    reset_limiter()
    tenants = [simulator.create_account() for _ in range(8)]
    simulator.admin("POST", "/sim/ratelimits", {"ip_limit": 20, "ip_ban_ms": 60_000})
    errors: list[ExchangeError] = []
    done: list[int] = []

    def tenant(key: str, secret: str) -> None:
        gw = gateway_for(key, secret, clock_sync=False)
        for _ in range(4):
            try:
                gw.wallet_balance()
                done.append(1)
            except ExchangeError as exc:
                errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=tenant, args=(k, s)) for _, k, s in tenants]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started
    assert errors == []
    assert len(done) == 32
    assert elapsed >= 5.0, "the second window had to be waited for"

    # Control: the same tenants without the shared limiter breach the budget and get banned.
    with pytest.raises(IpRateLimitedError) as exc:
        for _, key, secret in tenants:
            for _ in range(4):
                gateway_for(key, secret, clock_sync=False, use_limiter=False).wallet_balance()
    assert exc.value.http_status == 403
    reset_limiter()


@pytest.mark.django_db
def test_limiter_follows_bybits_limit_headers(simulator: Any, settings: Any) -> None:
    """Bybit says order/create allows only 3/s for this UID (X-Bapi-Limit: 3, below the published
    10): the limiter learns it from the headers and nine orders go out with no 10006."""
    point_settings_at(settings, simulator)
    flush_limiter()
    reset_limiter()
    simulator.admin("POST", "/sim/ratelimits", {"endpoints": {"/v5/order/create": 3}})
    _, key, secret = simulator.create_account(usdt="100000")
    gw = gateway_for(key, secret)
    price = below_market(simulator)
    started = time.monotonic()
    for i in range(9):
        gw.place_order(
            OrderRequest("BTCUSDT", "Buy", "Limit", Decimal("0.001"), f"h-{i}", price=price)
        )
    assert time.monotonic() - started >= 2.0  # three windows of three
    assert len(gw.open_orders("BTCUSDT")) == 9
    assert get_redis().get(f"xlim:uid:simulator:{gw.account}:/v5/order/create:l") == b"3"


@pytest.mark.django_db
def test_run_streams_command_holds_a_shard_and_stops(sim: Any, settings: Any) -> None:
    """The management command runs one shard for the given time and records its heartbeat."""
    from django.core.management import call_command

    from exchange.models import StreamShard

    call_command("run_streams", shard=1, shards=3, seconds=1.5)
    assert StreamShard.objects.filter(shard=1, shards=3).exists()
