"""The simulator's two clocks: market time (what the replay shows) and server time (what auth sees).

Market ("sim") time drives candles, fills and every business timestamp. It runs in one of three modes:
``real`` (sim time is wall time), ``fast`` (N x wall speed from where it last stopped) and ``stepped``
(it moves only when a test calls the control API). Server time is always the wall clock plus an optional
skew fault, because clients sign requests with their own wall clock: checking ``recv_window`` against a
stepped market clock would reject every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from exchange.simulator.market_data import HOUR, REPLAY_START_HIST

MODES = ("real", "fast", "stepped")


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SimClock:
    """Sim time and the history offset; persisted by the store so a restart resumes the replay."""

    mode: str
    speed: float = 1.0
    offset: int = 0
    skew_ms: int = 0
    _anchor_sim: int = 0
    _anchor_wall: float = field(default_factory=time.monotonic)

    @classmethod
    def start(
        cls, mode: str, speed: float, saved_sim: int | None, saved_offset: int | None
    ) -> SimClock:
        """Resume from a saved position, or map "now" onto the start of the replay."""
        if mode not in MODES:
            raise ValueError(f"unknown clock mode {mode!r}")
        now = wall_ms()
        if saved_offset is None:
            sim = now - now % HOUR
            offset = sim - REPLAY_START_HIST
        else:
            offset = saved_offset
            sim = saved_sim if saved_sim is not None else now
        if mode == "real":
            sim = max(sim, now)
        clock = cls(mode=mode, speed=speed if mode == "fast" else 1.0, offset=offset)
        clock._anchor_sim = sim
        clock._anchor_wall = time.monotonic()
        return clock

    def now(self) -> int:
        """Current sim time in ms."""
        if self.mode == "real":
            return wall_ms()
        if self.mode == "fast":
            return self._anchor_sim + int(
                (time.monotonic() - self._anchor_wall) * 1000 * self.speed
            )
        return self._anchor_sim

    def server_ms(self) -> int:
        """Server time for auth checks, /v5/market/time and the envelope ``time``."""
        return wall_ms() + self.skew_ms

    def set_sim(self, sim: int) -> None:
        """Move a stepped or fast clock to ``sim`` (never backwards)."""
        if self.mode == "real":
            raise ValueError("the real clock cannot be moved")
        cur = self.now()
        if sim < cur:
            raise ValueError("the clock never runs backwards")
        self._anchor_sim = sim
        self._anchor_wall = time.monotonic()

    def set_speed(self, speed: float) -> None:
        if self.mode != "fast":
            raise ValueError("only the fast clock has a speed")
        self._anchor_sim = self.now()
        self._anchor_wall = time.monotonic()
        self.speed = speed
