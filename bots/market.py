"""Which candles a bot decides on, how many it needs, and whether it can decide yet.

A bot reads the candles of its own environment (``exchange.services.market_data``): its key's
environment (demo trading reads mainnet's prices), or, for a dry-run bot without a key,
``EXCHANGE_MARKET_DATA_ENVIRONMENT``. It needs its strategy's lookback of consecutive closed
candles ending at the candle it decides (``bots.strategies.decision_window``).

``bots_readiness`` tells the pages why a running bot has not decided yet: *warming up* when the
exchange has no more history to give (a new listing, or an exchange outage inside the lookback) and
the missing candles can only come with time, with the close of the first candle it can decide on
(in the exchange's time: the simulator's clock when it runs fast); *waiting for market data* while
no candle is stored or the history is there to fetch (the sync backfills or repairs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, CharField, F, Value, When
from django.db.models.expressions import Expression

from bots.models import Bot
from bots.strategies import InvalidParameters, get_strategy
from exchange.selectors import candle_run
from exchange.services.market_data import market_data_default_environment, market_environment
from exchange.types import interval_delta


def bot_market_environment(bot: Bot) -> str:
    """The market-data environment of the candles this bot decides on."""
    if bot.connection_id is None:
        return market_data_default_environment()
    return market_environment(bot.connection.environment)  # type: ignore[union-attr]


def market_environment_expression() -> Expression:
    """``bot_market_environment`` in SQL, for subqueries over ``Candle`` (``OuterRef``)."""
    return Case(
        When(connection__isnull=True, then=Value(market_data_default_environment())),
        *[
            When(connection__environment=env, then=Value(market_environment(env)))
            for env in ("demo",)
            if market_environment(env) != env
        ],
        default=F("connection__environment"),
        output_field=CharField(),
    )


def bot_lookback(bot: Bot) -> int:
    """Consecutive closed candles the bot's strategy needs per decision (0 if its setup is bad)."""
    try:
        strategy = get_strategy(bot.strategy)
        return int(strategy.warmup(strategy.clean_params(bot.strategy_params)))
    except InvalidParameters:
        return 0


@dataclass(frozen=True)
class Readiness:
    """Why a running bot cannot decide yet; None from ``bots_readiness`` when it can."""

    state: str  # "warming_up" | "waiting"
    have: int
    need: int
    first_decision_at: datetime | None = None  # warming up: the close of the first decidable candle


WARMING_UP = "warming_up"
WAITING = "waiting"


def bots_readiness(bots: list[Bot]) -> dict[int, Readiness]:
    """Running bots that cannot decide on their next candle yet, by bot id.

    One candle read per (environment, symbol, interval, lookback), however many bots share it.
    """
    out: dict[int, Readiness] = {}
    cache: dict[tuple[str, str, str, int], Readiness | None] = {}
    for bot in bots:
        if bot.state != Bot.State.RUNNING:
            continue
        slot = (bot_market_environment(bot), bot.symbol, bot.timeframe, bot_lookback(bot))
        if slot not in cache:
            cache[slot] = _readiness(*slot)
        found = cache[slot]
        if found is not None:
            out[bot.pk] = found
    return out


def _readiness(env: str, symbol: str, interval: str, need: int) -> Readiness | None:
    step = interval_delta(interval)
    run = candle_run(environment=env, symbol=symbol, interval=interval, need=max(need, 1))
    if run.latest is None:
        return Readiness(WAITING, 0, need)
    if run.run >= need:
        return None
    if step is None or not run.exchange_has_none:
        return Readiness(WAITING, run.run, need)
    # Only time brings the missing candles: the candle that completes the window is the
    # (need - run)-th after the newest, and it is decided when it closes.
    first = run.latest + step * (need - run.run + 1)
    return Readiness(WARMING_UP, run.run, need, first_decision_at=first)
