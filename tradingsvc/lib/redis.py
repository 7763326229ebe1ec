"""One Redis client per process for the project's own keys (heartbeats, health checks, limiters)."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis:
    """The client for ``settings.REDIS_URL``; redis-py re-creates its pool after a fork."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2.0, socket_connect_timeout=2.0)
