"""Seeded fault injection for chaos tests, per account or global.

A fault is a rule: ``kind`` (what goes wrong), an optional ``uid`` (only that account; None = every
request), an optional ``path`` prefix, a ``probability`` drawn from a generator seeded per rule (so a
run is reproducible) and an optional ``count`` after which the rule expires.

Kinds:
- ``latency``: sleep ``ms`` before answering.
- ``drop_reply``: process the request (the order is placed) but never answer; the connection is
  closed after ``ms`` (default 30 s), so the client times out and the order exists.
- ``http_5xx``: answer HTTP ``status`` (default 502) with a plain-text body, without processing.
- ``server_error``: retCode 10016 "Server error." without processing.
- ``maintenance``: retCode 10016 "Service is restarting" without processing (Bybit's table gives
  10016 for "internal server error; Service is restarting").
- ``ws_drop_push``: when the account's next private push of topic ``path`` ("execution",
  "order", "position", "wallet"; empty = any) is due, close its private sockets instead of sending
  it: the disconnect-mid-fill case. The change itself happened; only the push is lost.
Immediate WebSocket disconnects and clock skew are admin actions, not rules (see control_api.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

REQUEST_KINDS = ("latency", "drop_reply", "http_5xx", "server_error", "maintenance")
PUSH_KINDS = ("ws_drop_push",)
KINDS = REQUEST_KINDS + PUSH_KINDS


@dataclass
class Fault:
    kind: str
    uid: int | None = None
    path: str = ""
    probability: float = 1.0
    count: int | None = None
    ms: int = 0
    status: int = 502
    seed: int = 0
    fault_id: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        self._rng = random.Random(self.seed)  # noqa: S311 - determinism, not security

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.fault_id,
            "kind": self.kind,
            "uid": self.uid,
            "path": self.path,
            "probability": self.probability,
            "count": self.count,
            "ms": self.ms,
            "status": self.status,
            "seed": self.seed,
        }


class Faults:
    """The active rules; ``match`` picks the rules that fire for one request."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self._next_id = 1

    def add(self, **spec: Any) -> Fault:
        fault = Fault(fault_id=self._next_id, **spec)
        self._next_id += 1
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

    def match(
        self, uid: int | None, path: str, kinds: tuple[str, ...] = REQUEST_KINDS
    ) -> list[Fault]:
        fired: list[Fault] = []
        for rule in list(self.rules):
            if rule.kind not in kinds:
                continue
            if rule.uid is not None and rule.uid != uid:
                continue
            if rule.path and not path.startswith(rule.path):
                continue
            if rule.probability < 1.0 and rule._rng.random() >= rule.probability:
                continue
            fired.append(rule)
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
        return fired
