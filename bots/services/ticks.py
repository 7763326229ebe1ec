"""Ticks: one decision per running bot per newly closed candle of its timeframe.

``ticks_dispatch`` (beat, every few seconds) finds running bots whose timeframe has a closed candle
newer than their last one, writes one ``BotTick`` per bot and candle (unique: a second dispatch or a
second beat cannot double it) and enqueues the tick task after commit.

``tick_run`` (a Celery task per tick, on any worker) reads candles from the shared table, gets the
strategy's signal (computed once per strategy, parameters and candle, then shared by every bot on
it), passes it through the risk manager with this bot's equity and position, writes order intents
and sends them (or simulates them in dry run). A redelivered tick finds its intents and continues;
one bot's failure is recorded on its tick and never touches another bot.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from bots.models import (
    Bot,
    BotPosition,
    BotTick,
    EquitySnapshot,
    KillSwitch,
    OrderIntent,
    SharedSignal,
)
from bots.risk import AccountState, decide
from bots.services.fills import FillData, fill_apply
from bots.services.lifecycle import bot_transition
from bots.services.orders import intent_send, intent_simulate_fill, intents_write
from bots.services.settings import limits_for
from bots.strategies import Bar, Signal, Target, get_strategy
from exchange.gateway import ExchangeGateway, gateway_for_connection
from exchange.instruments import instrument_get
from exchange.models import Candle
from exchange.selectors import candles_recent
from exchange.services.candles import market_data_environment

log = structlog.stdlib.get_logger(__name__)


# --- dispatch ---------------------------------------------------------------------------------
def ticks_dispatch() -> list[tuple[int, datetime]]:
    """Write the due ticks and enqueue them after commit; returns (bot id, candle start) pairs."""
    from bots.tasks import tick_batch as tick_task

    due: list[tuple[int, datetime]] = []
    pairs = (
        Bot.objects.filter(state=Bot.State.RUNNING).values_list("symbol", "timeframe").distinct()
    )
    for symbol, timeframe in pairs:
        latest = Candle.objects.filter(symbol=symbol, interval=timeframe).aggregate(m=Max("start"))[
            "m"
        ]
        if latest is None:
            continue
        bots = Bot.objects.filter(
            state=Bot.State.RUNNING, symbol=symbol, timeframe=timeframe
        ).filter(Q(last_candle_start__lt=latest) | Q(last_candle_start=None))
        with transaction.atomic():
            ids = list(bots.select_for_update(skip_locked=True).values_list("id", flat=True))
            if not ids:
                continue
            Bot.objects.filter(id__in=ids).update(last_candle_start=latest)
            BotTick.objects.bulk_create(
                [BotTick(bot_id=i, candle_start=latest) for i in ids], ignore_conflicts=True
            )
            # One task per chunk of bots that share the candle (and mostly the signal): the queue
            # overhead is paid per chunk, while each bot keeps its own BotTick fence.
            size = int(settings.TICK_BATCH_SIZE)
            for start in range(0, len(ids), size):
                transaction.on_commit(
                    partial(
                        tick_task.delay,
                        bot_ids=ids[start : start + size],
                        candle_start=latest.isoformat(),
                    )
                )
        due.extend((i, latest) for i in ids)
    return due


# --- the shared signal ------------------------------------------------------------------------
def signal_key(strategy: str, params: dict[str, Any]) -> str:
    canonical = json.dumps({"strategy": strategy, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _signal_to_json(signal: Signal) -> dict[str, Any]:
    data = asdict(signal)
    data["target"] = signal.target.value
    cleaned: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return cleaned


def _signal_from_json(data: dict[str, Any]) -> Signal:
    def dec(value: Any) -> Decimal | None:
        return None if value in (None, "") else Decimal(str(value))

    return Signal(
        target=Target(data["target"]),
        reason=data["reason"],
        stop_distance=dec(data.get("stop_distance")),
        take_profit_distance=dec(data.get("take_profit_distance")),
        indicators={k: Decimal(str(v)) for k, v in (data.get("indicators") or {}).items()},
    )


def shared_signal(bot: Bot, candle_start: datetime) -> Signal:
    """The strategy's signal for this candle: computed by the first bot that needs it, then read."""
    key = signal_key(bot.strategy, bot.strategy_params)
    existing = SharedSignal.objects.filter(
        key=key, symbol=bot.symbol, timeframe=bot.timeframe, candle_start=candle_start
    ).first()
    if existing is not None:
        return _signal_from_json(existing.signal)
    strategy = get_strategy(bot.strategy)
    params = strategy.clean_params(bot.strategy_params)
    klines = candles_recent(
        symbol=bot.symbol,
        interval=bot.timeframe,
        limit=strategy.warmup(params) + 50,
        until=candle_start,
    )
    bars = [Bar(k.start, k.open, k.high, k.low, k.close, k.volume) for k in klines]
    signal = strategy.run(bars, params)
    try:
        with transaction.atomic():
            SharedSignal.objects.create(
                key=key, symbol=bot.symbol, timeframe=bot.timeframe, candle_start=candle_start,
                signal=_signal_to_json(signal),
            )  # fmt: skip
    except IntegrityError:
        pass  # another bot's tick stored the same signal first; ours is identical
    return signal


# --- the tick ---------------------------------------------------------------------------------
def active_kill_switch(bot: Bot) -> str | None:
    switch = (
        KillSwitch.objects.filter(active=True)
        .filter(Q(scope=KillSwitch.Scope.GLOBAL) | Q(tenant_id=bot.tenant_id) | Q(bot_id=bot.pk))
        .first()
    )
    return switch.scope if switch else None


def _equity(bot: Bot, gateway: ExchangeGateway | None) -> AccountState:
    """Equity for sizing: the latest snapshot (kept by the snapshot task), else the wallet."""
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    snapshots = EquitySnapshot.objects.filter(tenant_id=bot.tenant_id, bot=None)
    latest = snapshots.order_by("-at").first()
    if latest is not None:
        equity = latest.equity
    elif gateway is not None:
        equity = gateway.wallet_balance().total_equity
        EquitySnapshot.objects.create(tenant_id=bot.tenant_id, at=timezone.now(), equity=equity)
    else:
        equity = Decimal(settings.DRY_RUN_EQUITY)
    first_today = snapshots.filter(at__gte=today).order_by("at").first()
    day_start = first_today.equity if first_today else equity
    peak = max(bot.peak_equity, equity)
    if peak != bot.peak_equity:
        Bot.objects.filter(pk=bot.pk).update(peak_equity=peak)
    return AccountState(equity=equity, day_start_equity=day_start, peak_equity=peak)


def _gateway_for(bot: Bot) -> ExchangeGateway | None:
    """The connection's cached gateway: no key is unsealed and no session built on every tick."""
    if bot.connection is None:
        return None
    return gateway_for_connection(bot.connection)


def tick_run(*, bot_id: int, candle_start: datetime) -> BotTick:
    """Run (or continue) one bot's tick for one candle. Safe to call again for the same pair."""
    tick = BotTick.objects.select_related("bot__template", "bot__connection", "bot__tenant").get(
        bot_id=bot_id, candle_start=candle_start
    )
    if tick.status != BotTick.Status.PENDING:
        return tick
    BotTick.objects.filter(pk=tick.pk).update(started_at=timezone.now())
    bot = tick.bot
    if bot.state != Bot.State.RUNNING:
        return _finish(
            tick, BotTick.Status.SKIPPED, f"The bot is {bot.get_state_display().lower()}."
        )
    try:
        return _decide_and_act(bot, tick)
    except Exception as exc:
        log.exception("tick.failed", tenant_id=str(bot.tenant_id), bot_id=bot.pk)
        return _finish(tick, BotTick.Status.FAILED, "", error=f"{type(exc).__name__}: {exc}")


def _decide_and_act(bot: Bot, tick: BotTick) -> BotTick:
    signal = shared_signal(bot, tick.candle_start)
    live = bot.mode == Bot.Mode.LIVE
    gateway = _gateway_for(bot) if live else None
    environment = bot.connection.environment if bot.connection else market_data_environment()
    instrument = instrument_get(environment, bot.symbol)
    candle = Candle.objects.get(symbol=bot.symbol, interval=bot.timeframe, start=tick.candle_start)
    position = BotPosition.objects.filter(bot=bot, symbol=bot.symbol).first()
    decision = decide(
        signal=signal,
        symbol=bot.symbol,
        position_qty=position.qty if position else Decimal(0),
        price=candle.close,
        account=_equity(bot, gateway),
        limits=limits_for(bot),
        instrument=instrument,
        now=tick.candle_start,
        kill_switch=active_kill_switch(bot),
    )
    reasons = " ".join(decision.reasons)
    intents = intents_write(bot=bot, tick=tick, legs=decision.legs, reason=reasons)
    for intent in intents:
        if live and gateway is not None:
            intent_send(intent=intent, gateway=gateway)
        elif intent.state == OrderIntent.State.PENDING:
            intent = intent_simulate_fill(intent=intent, price=candle.close)
            fill_apply(
                bot=bot, intent=intent, connection_id=None, simulated=True,
                fill=FillData(
                    exec_id=f"sim-{intent.order_link_id}", symbol=intent.symbol, side=intent.side,
                    price=candle.close, qty=intent.qty, fee=Decimal(0), exec_time=tick.candle_start,
                ),
            )  # fmt: skip
    if decision.breaker is not None:
        bot_transition(bot=bot, to=Bot.State.PAUSED, reason=decision.reasons[-1])
        from bots.services.alerts import alert_raise

        alert_raise(
            tenant_id=bot.tenant_id, bot_id=bot.pk, kind=f"breaker.{decision.breaker.value}",
            severity="critical", message=f"{bot.name}: {decision.reasons[-1]}",
            dedupe_key=f"breaker:{bot.pk}",
        )  # fmt: skip
    return _finish(tick, BotTick.Status.DONE, reasons, signal=_signal_to_json(signal))


def _finish(
    tick: BotTick,
    status: str,
    reasons: str,
    *,
    error: str = "",
    signal: dict[str, Any] | None = None,
) -> BotTick:
    fields = {"status": status, "reasons": reasons, "error": error, "signal": signal or {}}
    BotTick.objects.filter(pk=tick.pk).update(**fields, finished_at=timezone.now())
    for name, value in fields.items():
        setattr(tick, name, value)
    return tick
