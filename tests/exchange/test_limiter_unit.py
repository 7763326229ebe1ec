"""The limiter's own rules on the real test Redis (no exchange involved)."""

from __future__ import annotations

import time

import pytest

from exchange.errors import RateLimitedError
from exchange.limiter import LimiterConfig, RateLimiter
from tradingsvc.lib.redis import get_redis


@pytest.fixture
def limiter() -> RateLimiter:
    r = get_redis()
    for k in r.scan_iter("xlimunit:*"):
        r.delete(k)
    config = LimiterConfig(
        uid_limits={"/v5/order/create": 3},
        default_uid_limit=10,
        ip_budget=5,
        ip_window_ms=1000,
        margin_ms=0,
        ip_ban_seconds=30,
        egress="unit",
        max_wait_seconds=5,
    )
    return RateLimiter(r, config, prefix="xlimunit")


def test_per_account_budget_queues_the_fourth_call(limiter: RateLimiter) -> None:
    """Three order/create per second per account; the fourth waits for the window."""
    started = time.monotonic()
    for _ in range(4):
        limiter.settle(limiter.acquire(environment="e", endpoint="/v5/order/create", account="a"))
    assert time.monotonic() - started >= 0.9
    # Another account is not held up by the first one's budget.
    t = time.monotonic()
    limiter.acquire(environment="e", endpoint="/v5/order/create", account="b")
    assert time.monotonic() - t < 0.2


def test_an_ip_ban_holds_every_caller_and_says_when(limiter: RateLimiter) -> None:
    """After a 403 the egress is paused; a caller that cannot wait that long gets retry_after."""
    limiter.block_egress(environment="e")
    with pytest.raises(RateLimitedError) as exc:
        limiter.acquire(environment="e", endpoint="/v5/market/time", account=None, max_wait=1)
    assert exc.value.retry_after is not None and 25 < exc.value.retry_after <= 30


def test_limit_status_zero_blocks_until_bybits_reset(limiter: RateLimiter) -> None:
    """X-Bapi-Limit-Status 0 with a reset 600 ms ahead: the next call waits for it."""
    reset = int(time.time() * 1000) + 600
    limiter.observe(
        environment="e",
        endpoint="/v5/order/cancel",
        account="a",
        headers={
            "X-Bapi-Limit": "10",
            "X-Bapi-Limit-Status": "0",
            "X-Bapi-Limit-Reset-Timestamp": str(reset),
        },
    )
    started = time.monotonic()
    limiter.acquire(environment="e", endpoint="/v5/order/cancel", account="a")
    assert time.monotonic() - started >= 0.5
