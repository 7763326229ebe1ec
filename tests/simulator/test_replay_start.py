"""Where the replay starts: deep enough for every template's lookback, long enough for a demo, and
an hour in which each demo bot has something to do (the reasons given at ``REPLAY_START_HIST``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.conf import settings

from bots.models import RiskTemplate
from bots.strategies import Bar, ParamKind, Target, get_strategy
from demo.demo_data import DEMO_CLIENTS
from exchange.simulator.market_data import DAY, MINUTE, REPLAY_START_HIST, MarketData

START = REPLAY_START_HIST


@pytest.fixture(scope="module")
def md() -> MarketData:
    return MarketData.load(0)  # offset 0: sim time == history time


def _closed_bars(md: MarketData, symbol: str, interval: str, at: int, limit: int) -> list[Bar]:
    """The last ``limit`` closed candles up to ``at``, oldest first, as the engine stores them."""
    rows = md.klines(symbol, interval, None, at, limit + 1, at)  # the newest may be forming
    closed = [
        Bar(datetime.fromtimestamp(c.start / 1000, UTC), c.open, c.high, c.low, c.close, c.volume)
        for c in reversed(rows)
        if md.bucket(interval, c.start)[1] <= at
    ]
    return closed[-limit:]


def _deepest_params(template: RiskTemplate) -> dict[str, Any]:
    """The template's parameters with every bounded number at its upper bound (the lookbacks
    grow with their periods), the others as the template sets them."""
    strategy = get_strategy(template.strategy)
    params = strategy.clean_params(template.strategy_params)
    for spec in strategy.params:
        bounds = template.bounds.get(spec.name)
        if bounds is not None and spec.kind is not ParamKind.BOOL:
            params[spec.name] = spec.parse(bounds[1])
    return params


@pytest.mark.django_db
def test_every_template_series_has_its_deepest_lookback_before_the_start(md: MarketData) -> None:
    """Each (symbol, interval) a template reads has, before the replay start, the largest
    lookback the template allows plus the backfill margin in consecutive closed candles."""
    templates = list(RiskTemplate.objects.all())
    assert {t.slug for t in templates} >= {"conservative", "moderate", "aggressive"}

    for template in templates:
        strategy = get_strategy(template.strategy)
        need = strategy.warmup(_deepest_params(template)) + settings.EXCHANGE_CANDLE_DEPTH_MARGIN
        step = timedelta(minutes=int(template.timeframe))
        for symbol in template.symbols:
            bars = _closed_bars(md, symbol, template.timeframe, START, 1000)
            assert len(bars) >= need, (template.slug, symbol, len(bars), need)
            assert all(b.start - a.start == step for a, b in pairwise(bars))
            assert bars[-1].start + step == datetime.fromtimestamp(START / 1000, UTC)


def test_minute_series_have_a_full_backfill_page_before_the_start(md: MarketData) -> None:
    """A 1000-candle first backfill of every interval up to 15 minutes finds 1000 candles."""
    for symbol in md.histories:
        for interval in ("1", "3", "5", "15"):
            assert len(_closed_bars(md, symbol, interval, START, 1000)) == 1000, (symbol, interval)


def test_the_replay_runs_for_two_weeks_after_the_start(md: MarketData) -> None:
    """At least 14 days of minutes follow the start (about 5.6 hours of a demo at 60x)."""
    assert md.replay_end() - START >= 14 * DAY


@pytest.mark.django_db
def test_each_demo_bot_has_an_entry_signal_early_in_the_first_market_hour(md: MarketData) -> None:
    """Every demo bot's strategy (with its template's parameters) asks for a position at a candle
    close within 45 market minutes of the start (45 s of the demo's 60x clock from "demo is up"),
    counting the candle that closes at the start, which a bot's first tick decides."""
    for slug, _name, symbol in DEMO_CLIENTS:
        template = RiskTemplate.objects.get(slug=slug)
        strategy = get_strategy(template.strategy)
        params = strategy.clean_params(template.strategy_params)
        size = int(template.timeframe) * MINUTE
        targets = []
        for close in range(START, START + 45 * MINUTE + 1, size):
            bars = _closed_bars(md, symbol, template.timeframe, close, 200)
            signal = strategy.run(bars, params, step=timedelta(milliseconds=size))
            assert signal.no_decision is None, (slug, signal.no_decision)
            targets.append(signal.target)
        assert {Target.LONG, Target.SHORT} & set(targets), (slug, targets)
