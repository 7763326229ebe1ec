"""Test-only tasks for gateway tests; the test worker loads them with ``--include``."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal

from celery import shared_task


@shared_task(name="tests.exchange.burst_orders")
def burst_orders(
    key: str, secret: str, count: int, prefix: str, price: str, report_key: str
) -> None:
    """Place ``count`` resting orders as fast as the shared limiter admits; report to Redis
    (results are not kept by Celery here: ``CELERY_TASK_IGNORE_RESULT``)."""
    from exchange.credentials import Credentials
    from exchange.errors import ExchangeError
    from exchange.gateway import ExchangeGateway
    from exchange.types import OrderRequest
    from tradingsvc.lib.secret import Secret

    gw = ExchangeGateway.for_credentials(
        "simulator", Credentials(api_key=Secret(key), api_secret=Secret(secret))
    )
    placed, errors = 0, []
    started = time.monotonic()
    for i in range(count):
        try:
            gw.place_order(
                OrderRequest(
                    symbol="BTCUSDT",
                    side="Buy",
                    order_type="Limit",
                    qty=Decimal("0.001"),
                    price=Decimal(price),
                    order_link_id=f"{prefix}-{i}",
                )
            )
            placed += 1
        except ExchangeError as exc:
            errors.append(f"{type(exc).__name__}:{exc.ret_code}")
    report = {
        "placed": placed,
        "errors": errors,
        "seconds": time.monotonic() - started,
        "pid": os.getpid(),
    }
    from tradingsvc.lib.redis import get_redis

    get_redis().rpush(report_key, json.dumps(report))
