"""A Redis-backed rate limiter shared by every worker process and host.

Two kinds of bucket, both sliding windows kept as Redis sorted sets and checked in one Lua script
(one round trip, atomic, timed by the Redis server's clock so hosts never disagree):

- per (environment, account, endpoint): Bybit's per-UID limit ("rolling time window per second and
  UID", docs/v5/rate-limit). The limit starts at the published figure (``EXCHANGE_UID_LIMITS``) and
  follows the ``X-Bapi-Limit`` header once Bybit has told us the real one (VIP tiers, or a test that
  lowered the simulator's). ``X-Bapi-Limit-Status: 0`` and a 10006 answer block the bucket until
  ``X-Bapi-Limit-Reset-Timestamp``.
- per (environment, egress IP): 600 requests per 5 s for *all* tenants together; a breach costs an
  HTTP 403 and a ban of minutes, so callers queue here instead (``EXCHANGE_IP_BUDGET``). An observed
  403 blocks the whole egress for ``EXCHANGE_IP_BAN_SECONDS``.

A request is counted at admission and re-timed to the moment its answer came back (``settle``):
Bybit counts it on arrival, which lies between the two, so the next window never opens early even
when a request sat in a busy thread before it left. Both windows are also widened by
``EXCHANGE_LIMIT_MARGIN_MS`` against clock jitter between hosts.

``acquire`` blocks (sleeping in small jittered steps) until every bucket has room, and raises
``RateLimitedError`` only if that would take longer than the caller's ``max_wait``.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import redis
import structlog

from exchange.errors import RateLimitedError

log = structlog.stdlib.get_logger(__name__)

# KEYS: for each bucket, (window zset, block key, learned-limit key).
# ARGV: member, then for each bucket (default limit, window ms).
# Returns 0 when admitted (and records the hit in every bucket), else the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local n = #KEYS / 3
local wait = 0
for i = 0, n - 1 do
  local zkey, bkey, lkey = KEYS[i*3+1], KEYS[i*3+2], KEYS[i*3+3]
  local limit = tonumber(redis.call('GET', lkey) or ARGV[i*2+2])
  local window = tonumber(ARGV[i*2+3])
  local blocked = tonumber(redis.call('GET', bkey) or '0')
  if blocked > now and blocked - now > wait then wait = blocked - now end
  redis.call('ZREMRANGEBYSCORE', zkey, '-inf', now - window)
  if redis.call('ZCARD', zkey) >= limit then
    local oldest = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now + 1
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 0, n - 1 do
  local zkey = KEYS[i*3+1]
  redis.call('ZADD', zkey, now, member)
  redis.call('PEXPIRE', zkey, tonumber(ARGV[i*2+3]) * 2)
end
return 0
"""

# Moves a request's hits to "now" once its answer came back. Bybit counts a request when it
# arrives, which is somewhere between our admission and the answer; timing the window from the
# answer is therefore never early, however long the request waited in a thread or on the wire.
# KEYS: window zsets; ARGV[1]: member.
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now, ARGV[1])
end
return 0
"""

# Sets a block key to max(current, until); KEYS[1] block key, ARGV[1] until (ms, Redis clock).
_BLOCK = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilms = tonumber(ARGV[1])
if untilms > cur then
  redis.call('SET', KEYS[1], untilms, 'PX', math.max(untilms - cur, 1000) + 60000)
end
return 0
"""


@dataclass(frozen=True)
class Permit:
    """An admitted request: where it was counted, so :meth:`RateLimiter.settle` can re-time it."""

    window_keys: list[str]
    member: str
    waited: float


@dataclass(frozen=True)
class LimiterConfig:
    uid_limits: Mapping[str, int]
    default_uid_limit: int
    ip_budget: int
    ip_window_ms: int
    margin_ms: int
    ip_ban_seconds: float
    egress: str
    max_wait_seconds: float

    @classmethod
    def from_settings(cls) -> LimiterConfig:
        from django.conf import settings

        return cls(
            uid_limits=settings.EXCHANGE_UID_LIMITS,
            default_uid_limit=settings.EXCHANGE_DEFAULT_UID_LIMIT,
            ip_budget=settings.EXCHANGE_IP_BUDGET,
            ip_window_ms=settings.EXCHANGE_IP_WINDOW_MS,
            margin_ms=settings.EXCHANGE_LIMIT_MARGIN_MS,
            ip_ban_seconds=settings.EXCHANGE_IP_BAN_SECONDS,
            egress=settings.EXCHANGE_EGRESS_NAME,
            max_wait_seconds=settings.EXCHANGE_LIMIT_MAX_WAIT_SECONDS,
        )


class RateLimiter:
    """The shared limiter; cheap to build, safe to share between threads."""

    def __init__(self, client: redis.Redis, config: LimiterConfig, prefix: str = "xlim") -> None:
        self.redis = client
        self.config = config
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._block = client.register_script(_BLOCK)
        self._settle = client.register_script(_SETTLE)
        self._known_limits: dict[str, int] = {}

    # --- keys -----------------------------------------------------------------------------------
    def _ip_keys(self, environment: str) -> list[str]:
        base = f"{self.prefix}:ip:{environment}:{self.config.egress}"
        return [f"{base}:w", f"{base}:b", f"{base}:l"]

    def _uid_keys(self, environment: str, account: str, endpoint: str) -> list[str]:
        base = f"{self.prefix}:uid:{environment}:{account}:{endpoint}"
        return [f"{base}:w", f"{base}:b", f"{base}:l"]

    # --- admission ------------------------------------------------------------------------------
    def acquire(
        self,
        *,
        environment: str,
        endpoint: str,
        account: str | None,
        max_wait: float | None = None,
    ) -> Permit:
        """Wait until the request may go; pass the permit to :meth:`settle` when it is answered.

        ``account`` is None for public endpoints (they count only against the IP budget).
        """
        cfg = self.config
        keys = self._ip_keys(environment)
        member = uuid.uuid4().hex
        args: list[str | int] = [member, cfg.ip_budget, cfg.ip_window_ms + cfg.margin_ms]
        if account is not None:
            keys += self._uid_keys(environment, account, endpoint)
            limit = cfg.uid_limits.get(endpoint, cfg.default_uid_limit)
            args += [limit, 1000 + cfg.margin_ms]
        budget = cfg.max_wait_seconds if max_wait is None else max_wait
        started = time.monotonic()
        while True:
            wait_ms = int(self._acquire(keys=keys, args=args))
            if wait_ms <= 0:
                return Permit(keys[0::3], member, time.monotonic() - started)
            waited = time.monotonic() - started
            if waited + wait_ms / 1000 > budget:
                raise RateLimitedError(
                    "Too many requests are queued for Bybit right now; try again shortly.",
                    retry_after=wait_ms / 1000,
                    endpoint=endpoint,
                )
            # Jitter spreads the queued callers so they do not all wake on the same millisecond.
            time.sleep(wait_ms / 1000 + random.uniform(0, 0.02))  # noqa: S311 - jitter

    def settle(self, permit: Permit, elapsed: float | None = None) -> None:
        """The request was answered (or failed) ``elapsed`` seconds after admission: its hits
        count from now. Within the margin the widened window already covers it, so the common
        fast answer costs no second round trip."""
        if elapsed is not None and elapsed * 1000 <= self.config.margin_ms:
            return
        self._settle(keys=permit.window_keys, args=[permit.member])

    def try_acquire_bucket(self, name: str, *, limit: int, window_ms: int) -> int:
        """Non-blocking: 0 when admitted (and counted), else ms to wait. For async callers
        (the stream process) that must not sleep in the event loop, e.g. WebSocket connects."""
        base = f"{self.prefix}:bucket:{name}"
        keys = [f"{base}:w", f"{base}:b", f"{base}:l"]
        return int(self._acquire(keys=keys, args=[uuid.uuid4().hex, limit, window_ms]))

    # --- what Bybit told us ---------------------------------------------------------------------
    def observe(
        self,
        *,
        environment: str,
        endpoint: str,
        account: str,
        headers: Mapping[str, str],
        offset_ms: int = 0,
    ) -> None:
        """Learn from ``X-Bapi-Limit*`` headers; ``offset_ms`` is server minus local time."""
        limit_text = headers.get("X-Bapi-Limit")
        if limit_text and limit_text.isdigit():
            limit = int(limit_text)
            cache_key = f"{environment}:{account}:{endpoint}"
            if self._known_limits.get(cache_key) != limit:
                self._known_limits[cache_key] = limit
                default = self.config.uid_limits.get(endpoint, self.config.default_uid_limit)
                lkey = self._uid_keys(environment, account, endpoint)[2]
                if limit != default:
                    self.redis.set(lkey, limit, ex=3600)
                else:
                    self.redis.delete(lkey)
        status = headers.get("X-Bapi-Limit-Status")
        if status == "0":
            self.block_until_reset(
                environment=environment,
                endpoint=endpoint,
                account=account,
                headers=headers,
                offset_ms=offset_ms,
            )

    def block_until_reset(
        self,
        *,
        environment: str,
        endpoint: str,
        account: str,
        headers: Mapping[str, str] | None,
        offset_ms: int = 0,
        default_seconds: float = 1.0,
    ) -> float:
        """Hold the (account, endpoint) bucket until Bybit's reset time; returns seconds from now."""
        reset_text = (headers or {}).get("X-Bapi-Limit-Reset-Timestamp", "")
        now_local = time.time() * 1000
        if reset_text.isdigit():
            until_local = int(reset_text) - offset_ms
        else:
            until_local = int(now_local + default_seconds * 1000)
        seconds = max(until_local - now_local, 0.0) / 1000
        self._block_for(self._uid_keys(environment, account, endpoint)[1], seconds)
        return seconds

    def block_egress(self, *, environment: str, seconds: float | None = None) -> None:
        """After an HTTP 403 the whole egress IP waits (Bybit: 'wait for at least 10 minutes')."""
        wait = self.config.ip_ban_seconds if seconds is None else seconds
        log.error("exchange.ip_banned", environment=environment, pause_seconds=wait)
        self._block_for(self._ip_keys(environment)[1], wait)

    def _block_for(self, key: str, seconds: float) -> None:
        server_now = self.redis.time()
        now_ms = int(server_now[0]) * 1000 + int(server_now[1]) // 1000
        self._block(keys=[key], args=[now_ms + int(seconds * 1000)])


_limiter: RateLimiter | None = None


def get_limiter() -> RateLimiter:
    """The process's limiter on the project Redis (re-created when the settings object changes)."""
    global _limiter
    if _limiter is None:
        from tradingsvc.lib.redis import get_redis

        _limiter = RateLimiter(get_redis(), LimiterConfig.from_settings())
    return _limiter


def reset_limiter() -> None:
    """Forget the cached limiter (tests change the budgets through settings)."""
    global _limiter
    _limiter = None
