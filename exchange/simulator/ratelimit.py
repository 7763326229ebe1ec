"""Bybit's rate limits: per UID and endpoint (rolling second, retCode 10006) and per IP (HTTP 403).

Limits come from docs/v5/rate-limit (linear column). Each answer carries ``X-Bapi-Limit``,
``X-Bapi-Limit-Status`` (left in the window) and ``X-Bapi-Limit-Reset-Timestamp`` (when the window
frees a slot; "now" when not exhausted, never in the past, because pybit sleeps until it).
Both kinds can be lowered through the control API so tests can reach them.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

UID_LIMITS: dict[str, int] = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/order/create-batch": 10,
    "/v5/order/amend-batch": 10,
    "/v5/order/cancel-batch": 10,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/position/list": 50,
    "/v5/position/closed-pnl": 50,
    "/v5/position/set-leverage": 10,
    "/v5/position/trading-stop": 10,
    "/v5/position/switch-mode": 10,
    "/v5/account/wallet-balance": 50,
    "/v5/account/fee-rate": 5,
    "/v5/account/info": 50,
    "/v5/account/transaction-log": 25,
    "/v5/account/set-margin-mode": 5,
    "/v5/user/query-api": 10,
}
DEFAULT_UID_LIMIT = 10
IP_LIMIT = 600
IP_WINDOW_MS = 5000
IP_BAN_MS = 10 * 60 * 1000


@dataclass
class RateLimiter:
    """Sliding windows keyed by (uid, endpoint) and by client IP."""

    overrides: dict[str, int] = field(default_factory=dict)
    uid_scale: float = 1.0
    ip_limit: int = IP_LIMIT
    ip_ban_ms: int = IP_BAN_MS
    _uid_hits: dict[tuple[int, str], deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _ip_hits: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _banned_until: dict[str, int] = field(default_factory=dict)

    def limit_for(self, path: str) -> int:
        if path in self.overrides:
            return self.overrides[path]
        return max(1, int(UID_LIMITS.get(path, DEFAULT_UID_LIMIT) * self.uid_scale))

    def hit_ip(self, ip: str, now: int) -> bool:
        """Count a request from ``ip``; False when it is (or just got) banned."""
        if self._banned_until.get(ip, 0) > now:
            return False
        hits = self._ip_hits[ip]
        while hits and hits[0] <= now - IP_WINDOW_MS:
            hits.popleft()
        if len(hits) >= self.ip_limit:
            self._banned_until[ip] = now + self.ip_ban_ms
            hits.clear()
            return False
        hits.append(now)
        return True

    def hit_uid(self, uid: int, path: str, now: int, cost: int = 1) -> tuple[bool, dict[str, str]]:
        """Count a request; returns (allowed, the X-Bapi-Limit* headers)."""
        limit = self.limit_for(path)
        hits = self._uid_hits[(uid, path)]
        while hits and hits[0] <= now - 1000:
            hits.popleft()
        allowed = len(hits) + cost <= limit
        if allowed:
            hits.extend([now] * cost)
        left = max(limit - len(hits), 0)
        reset = hits[0] + 1000 if (not allowed or left == 0) and hits else now
        return allowed, {
            "X-Bapi-Limit": str(limit),
            "X-Bapi-Limit-Status": str(left),
            "X-Bapi-Limit-Reset-Timestamp": str(max(reset, now)),
        }

    def reset(self) -> None:
        self.overrides.clear()
        self.uid_scale = 1.0
        self.ip_limit = IP_LIMIT
        self.ip_ban_ms = IP_BAN_MS
        self._uid_hits.clear()
        self._ip_hits.clear()
        self._banned_until.clear()
