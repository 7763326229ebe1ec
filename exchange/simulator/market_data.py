"""Real candles replayed on the simulator's clock.

History is shifted in time by a whole number of hours (``offset``) so that the replayed candles carry
current timestamps: sim time = history time + offset. Minute intervals come from the 1-minute files,
hourly and longer ones are rebuilt from the minutes (see SymbolHistory for why the 1-hour files are
not served). Inside a minute the price follows a fixed path through the candle's
extremes: open -> low -> high -> close for a rising candle, open -> high -> low -> close otherwise, each
leg a third of the minute, linearly interpolated and rounded to the tick. Matching, tickers, the forming
kline and public trades all read that one path, so they never disagree.
"""

from __future__ import annotations

import calendar
import csv
import gzip
import io
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from itertools import pairwise

from exchange.simulator.instruments import INSTRUMENTS, Instrument

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
WEEK = 7 * DAY
INTERVALS = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")
# Where "now" sits in history the first time a state file starts its clock. It is chosen, not
# derived, for three reasons checked by tests/simulator/test_replay_start.py:
# - depth: the hourly series starts with the minute files (2025-05-30 17:00, see SymbolHistory), so
#   by this hour 306 hourly candles exist per symbol, and a full 1000-candle page of every interval
#   up to 15 minutes; that is more than the largest lookback any risk template allows (101 hourly
#   candles) plus the backfill margin (50). The former start, 2025-06-01 00:00, had 31: the
#   Conservative template (51 hourly candles) could not decide for its first 20 market hours.
# - length: 17 days of minutes remain after it (about 7 hours of a demo on the 60x clock).
# - the demo: each of its three bots (Conservative ETHUSDT 1h, Moderate BTCUSDT 15m, Aggressive
#   BTCUSDT 5m) has an entry signal within 45 market minutes (the first two on the candle that
#   closes at the start, the third 30 minutes in), and the demo runs its 60x clock from "demo is
#   up" (`manage.py rundemo`), so a newcomer sees all three trade in under a minute. Many hours of the
#   window fail this (ETHUSDT in an hourly downtrend, which the long-only template sits out, or no
#   BTCUSDT 5m band break for hours).
REPLAY_START_HIST = 1749726000000  # 2025-06-12 11:00 UTC


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV candle; ``start`` is in whatever time base the caller works in."""

    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def shifted(self, offset: int) -> Candle:
        return Candle(self.start + offset, self.open, self.high, self.low, self.close, self.volume)


@dataclass(frozen=True, slots=True)
class Segment:
    """A monotone leg of the price path between two sim times (``t0 <= t1``)."""

    t0: int
    p0: Decimal
    t1: int
    p1: Decimal

    def price_time(self, price: Decimal) -> int:
        """When this leg passes ``price`` (clipped to the leg), for execution timestamps."""
        if self.p1 == self.p0:
            return self.t0
        frac = (price - self.p0) / (self.p1 - self.p0)
        frac = min(max(frac, Decimal(0)), Decimal(1))
        return self.t0 + int(frac * (self.t1 - self.t0))


def _read_csv(name: str) -> list[Candle]:
    raw = resources.files("exchange.simulator").joinpath("data", name).read_bytes()
    rows = csv.reader(io.StringIO(gzip.decompress(raw).decode()))
    next(rows)
    return [
        Candle(int(r[0]), Decimal(r[1]), Decimal(r[2]), Decimal(r[3]), Decimal(r[4]), Decimal(r[5]))
        for r in rows
    ]


def _merge(parts: list[Candle], start: int) -> Candle:
    return Candle(
        start,
        parts[0].open,
        max(c.high for c in parts),
        min(c.low for c in parts),
        parts[-1].close,
        sum((c.volume for c in parts), Decimal(0)),
    )


def _path(c: Candle, duration: int) -> list[tuple[int, Decimal]]:
    first, second = (c.low, c.high) if c.close >= c.open else (c.high, c.low)
    return [
        (c.start, c.open),
        (c.start + duration // 3, first),
        (c.start + 2 * duration // 3, second),
        (c.start + duration, c.close),
    ]


class SymbolHistory:
    """One symbol's candles in history time, indexed for O(1) minute and hour lookups.

    Every interval is built from the 1-minute files. The shipped 1-hour files end on 2025-05-03
    14:00 and the minute files start on 2025-05-30 16:39: no public Bybit candles for the 27 days
    between were found, so rather than serve an hourly series that silently jumps over that hole,
    hourly and longer candles start at the first whole hour of the minute files (2025-05-30 17:00).
    """

    def __init__(self, instrument: Instrument, minutes: list[Candle]) -> None:
        self.instrument = instrument
        self.minutes = minutes
        self.m_first = minutes[0].start
        self.m_end = minutes[-1].start + MINUTE
        self.hours: dict[int, Candle] = {}
        first_full_hour = -(-self.m_first // HOUR) * HOUR
        for h in range(first_full_hour, self.m_end - HOUR + 1, HOUR):
            i = (h - self.m_first) // MINUTE
            self.hours[h] = _merge(minutes[i : i + 60], h)
        self.h_first = first_full_hour

    def minute(self, h: int) -> Candle | None:
        if self.m_first <= h < self.m_end:
            return self.minutes[(h - self.m_first) // MINUTE]
        return None


class MarketData:
    """Candles, prices and price-path legs in sim time for every listed symbol."""

    def __init__(self, histories: dict[str, SymbolHistory], offset: int) -> None:
        self.histories = histories
        self.offset = offset

    @classmethod
    def load(cls, offset: int) -> MarketData:
        histories = {
            sym: SymbolHistory(inst, _read_csv(f"{sym}_1m.csv.gz"))
            for sym, inst in INSTRUMENTS.items()
        }
        return cls(histories, offset)

    # --- the replay window -------------------------------------------------------------------
    def replay_end(self) -> int:
        """Sim time at which the 1-minute data runs out; the market freezes there."""
        return min(h.m_end for h in self.histories.values()) + self.offset

    # --- prices ------------------------------------------------------------------------------
    def price_at(self, symbol: str, t: int) -> Decimal:
        hist = self.histories[symbol]
        h = t - self.offset
        c = hist.minute(h)
        if c is not None:
            return self._interpolate(hist.instrument, _path(c, MINUTE), h)
        if h >= hist.m_end:
            return hist.minutes[-1].close
        hc = hist.hours.get(h - h % HOUR)
        if hc is not None:
            return self._interpolate(hist.instrument, _path(hc, HOUR), h)
        return hist.minutes[0].open

    @staticmethod
    def _interpolate(inst: Instrument, points: list[tuple[int, Decimal]], h: int) -> Decimal:
        for (ta, pa), (tb, pb) in pairwise(points):
            if ta <= h < tb:
                return inst.round_price(pa + (pb - pa) * (h - ta) / (tb - ta))
        return points[-1][1]

    def segments(self, symbol: str, a: int, b: int) -> list[Segment]:
        """The monotone legs the price travels over (a, b] in sim time, jumps included."""
        hist = self.histories[symbol]
        inst = hist.instrument
        ha, hb = a - self.offset, b - self.offset
        lo, hi = max(ha, hist.m_first), min(hb, hist.m_end)
        out: list[Segment] = []
        if lo >= hi:
            return out
        i = (lo - hist.m_first) // MINUTE
        last = (hi - 1 - hist.m_first) // MINUTE
        for idx in range(i, last + 1):
            c = hist.minutes[idx]
            if idx > 0 and c.start > ha:
                prev = hist.minutes[idx - 1]
                if prev.close != c.open:
                    t = c.start + self.offset
                    out.append(Segment(t, prev.close, t, c.open))
            points = _path(c, MINUTE)
            for (ta, pa), (tb, pb) in pairwise(points):
                s, e = max(ta, ha), min(tb, hb)
                if e <= s:
                    continue
                ps = pa if s == ta else inst.round_price(pa + (pb - pa) * (s - ta) / (tb - ta))
                pe = pb if e == tb else inst.round_price(pa + (pb - pa) * (e - ta) / (tb - ta))
                if ps != pe:
                    out.append(Segment(s + self.offset, ps, e + self.offset, pe))
        return out

    # --- candles -----------------------------------------------------------------------------
    @staticmethod
    def bucket(interval: str, t: int) -> tuple[int, int]:
        """The [start, end) of the interval's candle that contains sim time ``t`` (UTC grid)."""
        if interval == "D":
            s = t - t % DAY
            return s, s + DAY
        if interval == "W":
            s = t - (t - 4 * DAY) % WEEK  # 1970-01-05 was a Monday
            return s, s + WEEK
        if interval == "M":
            d = datetime.fromtimestamp(t / 1000, UTC)
            s = calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000
            days = calendar.monthrange(d.year, d.month)[1]
            return s, s + days * DAY
        size = int(interval) * MINUTE
        s = t - t % size
        return s, s + size

    def candle(self, symbol: str, a: int, b: int, now: int) -> Candle | None:
        """The candle covering sim [a, b), cut at ``now`` if it is still forming."""
        hist = self.histories[symbol]
        off = self.offset
        parts: list[Candle] = []
        t = a - off
        stop = min(b, now + 1) - off
        while t < stop:
            if t % HOUR == 0 and t + HOUR <= stop and (t + HOUR <= hist.m_end or t < hist.m_first):
                hc = hist.hours.get(t)
                if hc is not None:
                    parts.append(hc)
                t += HOUR
                continue
            mc = hist.minute(t)
            if mc is None:
                if t >= hist.m_end:
                    break
                t = t - t % HOUR + HOUR if t < hist.m_first else t + MINUTE
                continue
            if t + MINUTE <= stop:
                parts.append(mc)
            else:
                parts.append(self._partial(hist, mc, now - off))
            t += MINUTE
        if not parts:
            return None
        return _merge(parts, a - off).shifted(off)

    def _partial(self, hist: SymbolHistory, c: Candle, h: int) -> Candle:
        inst = hist.instrument
        seen = [p for t, p in _path(c, MINUTE) if t <= h]
        price = self._interpolate(inst, _path(c, MINUTE), h)
        seen.append(price)
        frac = Decimal(h - c.start) / MINUTE
        vol = (c.volume * frac).quantize(inst.qty_step) if c.volume else Decimal(0)
        return Candle(c.start, c.open, max(seen), min(seen), price, vol)

    def first_time(self, symbol: str) -> int:
        """Sim time of the first replayed minute."""
        return self.histories[symbol].m_first + self.offset

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int, now: int
    ) -> list[Candle]:
        """Candles newest first, as /v5/market/kline lists them; the newest may be forming.

        As Bybit pages them: ``start`` alone gives the ``limit`` candles from ``start`` on; ``end``
        alone (or neither) the ``limit`` candles up to ``end`` (now); both, the newest ``limit``
        candles inside [start, end]. Nothing before the first replayed minute (hour, for hourly and
        longer intervals) is listed; the oldest candle may cover only the end of its period.
        """
        hist = self.histories[symbol]
        minute_series = interval not in ("D", "W", "M") and int(interval) < 60
        earliest = (hist.m_first if minute_series else hist.h_first) + self.offset
        out: list[Candle] = []
        if start is not None and end is None:
            s, e = self.bucket(interval, max(start, earliest))
            if s < start:
                s, e = self.bucket(interval, e)
            while len(out) < limit and s <= now:
                c = self.candle(symbol, s, e, now)
                if c is not None:
                    out.append(c)
                s, e = self.bucket(interval, e)
            out.reverse()
            return out
        top = now if end is None else min(end, now)
        s, e = self.bucket(interval, top)
        while len(out) < limit and e > earliest and (start is None or s >= start):
            c = self.candle(symbol, s, e, now)
            if c is not None:
                out.append(c)
            s, e = self.bucket(interval, s - 1)
        return out

    def stats_24h(self, symbol: str, now: int) -> dict[str, Decimal]:
        """Rolling 24 h figures for the ticker (open 24 h ago, extremes, volume, 1 h ago)."""
        day = self.candle(symbol, now - DAY, now + 1, now)
        last = self.price_at(symbol, now)
        if day is None:
            day = Candle(now, last, last, last, last, Decimal(0))
        hour_ago = self.price_at(symbol, now - HOUR)
        return {
            "prev24h": day.open,
            "high": day.high,
            "low": day.low,
            "volume": day.volume,
            "prev1h": hour_ago,
            "last": last,
        }

    def minute_starts(self, symbol: str) -> list[int]:
        """Sim start times of every replayed minute (for tests that walk a day)."""
        return [c.start + self.offset for c in self.histories[symbol].minutes]


def first_index_after(values: list[int], t: int) -> int:
    return bisect_right(values, t)
