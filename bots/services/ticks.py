"""Ticks: one decision per running bot per newly closed candle of its timeframe.

``ticks_dispatch`` (beat, every few seconds) finds running bots whose timeframe has a closed candle
newer than their last one, writes one ``BotTick`` per bot and candle (unique: a second dispatch or a
second beat cannot double it) and enqueues the tick tasks after commit, one per chunk of bots.

``ticks_run`` (the Celery task of a chunk, on any worker) reads candles from the shared table, gets
the strategy's signal (computed once per strategy, parameters and candle, then shared by every bot
on it), passes it through the risk manager with each bot's equity and position, writes order
intents and sends them (or simulates them in dry run). What the bots of a chunk need is read once
for the chunk (ticks, signals, candles, positions, equity, kill switches) and written in bulk
(intents, simulated fills, tick results), so the queries of a chunk do not grow with its bots
beyond two per live order (its claim and its answer). A redelivered chunk finds its intents and
continues; one bot's failure is recorded on its tick and never touches another bot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Tenant
from bots.books import (
    AccountBooks,
    DryRunBooks,
    accounts_books,
    breaker_state,
    dry_run_books,
    dry_run_equity,
)
from bots.market import bot_market_environment
from bots.models import (
    Bot,
    BotFill,
    BotPosition,
    BotTick,
    KillSwitch,
    OrderIntent,
    SharedSignal,
)
from bots.risk import AccountState, RiskDecision, decide
from bots.services.bulk import bulk_set
from bots.services.fills import intents_fill_simulated
from bots.services.lifecycle import bot_error, bot_transition
from bots.services.live import publish_bot_event, publish_fill
from bots.services.orders import intents_send_many, intents_write_many
from bots.services.snapshots import snapshot_account_equity
from bots.services.tuning import limits_for
from bots.strategies import Bar, NoDecision, NoDecisionCode, Signal, Target, get_strategy
from bots.texts import phrase
from exchange.errors import ExchangeError
from exchange.gateway import ExchangeGateway, gateway_for_connection
from exchange.instruments import instrument_get
from exchange.models import Candle, ExchangeConnection
from exchange.selectors import candles_recent
from exchange.services.candles import market_data_environment
from exchange.services.market_data import candles_request_sync, market_environment
from exchange.types import interval_delta
from tradingsvc.lib.phrases import Phrase, PhraseJson, phrase_from_json, phrase_json, phrases_json

log = structlog.stdlib.get_logger(__name__)

# Orders a worker process has in flight at once. Sends are network waits, so a few threads keep a
# worker busy while the shared limiter still holds every request to Bybit's per-IP budget.
DEFAULT_SEND_THREADS = 8


# --- dispatch ---------------------------------------------------------------------------------
def ticks_dispatch() -> list[tuple[int, datetime]]:
    """Write the due ticks and enqueue them after commit; returns (bot id, candle start) pairs."""
    from bots.tasks import tick_batch as tick_task

    due: list[tuple[int, datetime]] = []
    # order_by() drops Bot's default ordering: DISTINCT would otherwise include the name and
    # return one "pair" per bot, and the loop below would run two queries per bot.
    # Each bot ticks on its own environment's candles: group the running pairs by market-data
    # environment (a key's environment, demo trading reading mainnet's; no key: the default).
    # Only an active tenant's bots are due: a suspended, disabled or erased one gets no new tick.
    # Those tenants are few, so their ids are read first and excluded: the bot queries stay on one
    # table. Joined to the tenants, a fleet written since the last ANALYZE was planned as a nested
    # loop reading every tenant for every bot (0.5 s per query at 1,000 bots, growing with the
    # square of the fleet).
    halted = list(Tenant.objects.exclude(status=Tenant.Status.ACTIVE).values_list("id", flat=True))
    trading = Bot.objects.filter(state=Bot.State.RUNNING).exclude(tenant_id__in=halted)
    groups: dict[tuple[str, str, str], set[str | None]] = {}
    for key_env, symbol, timeframe in (
        trading.order_by().values_list("connection__environment", "symbol", "timeframe").distinct()
    ):
        env = market_environment(key_env) if key_env else market_data_environment()
        groups.setdefault((env, symbol, timeframe), set()).add(key_env)
    for (env, symbol, timeframe), key_envs in sorted(groups.items(), key=str):
        latest = Candle.objects.filter(
            environment=env, symbol=symbol, interval=timeframe
        ).aggregate(m=Max("start"))["m"]
        if latest is None:
            continue
        of_env = Q(
            connection_id__in=ExchangeConnection.objects.filter(
                environment__in=[e for e in key_envs if e]
            ).values("id")
        )
        if None in key_envs:
            of_env |= Q(connection_id=None)
        bots = (
            trading.filter(symbol=symbol, timeframe=timeframe)
            .filter(of_env)
            .filter(Q(last_candle_start__lt=latest) | Q(last_candle_start=None))
        )
        with transaction.atomic():
            ids = list(
                bots.select_for_update(of=("self",), skip_locked=True).values_list("id", flat=True)
            )
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
def signal_key(strategy: str, params: dict[str, Any], environment: str = "") -> str:
    """The shared signal's key: strategy, parameters and the environment whose candles it read."""
    canonical = json.dumps(
        {"strategy": strategy, "params": params, "environment": environment},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _signal_to_json(signal: Signal) -> dict[str, Any]:
    data = asdict(signal)
    data["target"] = signal.target.value
    data["reason_code"] = phrase_json(signal.reason)
    if signal.no_decision is None:
        data.pop("no_decision")
    else:
        gap_at = signal.no_decision.gap_at
        data["no_decision"]["code"] = signal.no_decision.code.value
        data["no_decision"]["gap_at"] = gap_at.isoformat() if gap_at else None
    cleaned: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return cleaned


def _signal_from_json(data: dict[str, Any]) -> Signal:
    def dec(value: Any) -> Decimal | None:
        return None if value in (None, "") else Decimal(str(value))

    return Signal(
        target=Target(data["target"]),
        reason=phrase_from_json(data.get("reason_code") or {}, data["reason"]),
        stop_distance=dec(data.get("stop_distance")),
        take_profit_distance=dec(data.get("take_profit_distance")),
        indicators={k: Decimal(str(v)) for k, v in (data.get("indicators") or {}).items()},
        no_decision=no_decision_from_json(data.get("no_decision")),
    )


def no_decision_from_json(data: Any) -> NoDecision | None:
    """A stored guard refusal (a tick's ``signal["no_decision"]``), or None."""
    if not isinstance(data, dict):
        return None
    gap_at = data.get("gap_at")
    return NoDecision(
        code=NoDecisionCode(data["code"]),
        have=int(data["have"]),
        need=int(data["need"]),
        gap_at=datetime.fromisoformat(gap_at) if gap_at else None,
    )


def _signal_compute(bot: Bot, key: str, candle_start: datetime) -> Signal:
    """Run the strategy for this candle and share the result (the first writer wins).

    The strategy gets its window only when the lookback's consecutive closed candles end at this
    candle (``decision_window``). Otherwise the signal carries the guard's refusal, is not shared
    (a later chunk of the same candle may find the history repaired), and the pair's sync is asked
    to fetch what is missing now rather than at its next beat.
    """
    strategy = get_strategy(bot.strategy)
    params = strategy.clean_params(bot.strategy_params)
    env = bot_market_environment(bot)
    klines = candles_recent(
        environment=env,
        symbol=bot.symbol,
        interval=bot.timeframe,
        limit=strategy.warmup(params) + 50,
        until=candle_start,
    )
    bars = [Bar(k.start, k.open, k.high, k.low, k.close, k.volume) for k in klines]
    signal = strategy.run(bars, params, step=interval_delta(bot.timeframe), decided_at=candle_start)
    if signal.no_decision is not None:
        transaction.on_commit(
            partial(
                candles_request_sync, environment=env, symbol=bot.symbol, interval=bot.timeframe
            )
        )
        return signal
    try:
        with transaction.atomic():
            SharedSignal.objects.create(
                key=key,
                symbol=bot.symbol,
                timeframe=bot.timeframe,
                candle_start=candle_start,
                signal=_signal_to_json(signal),
            )
    except IntegrityError:
        pass  # another bot's tick stored the same signal first; ours is identical
    return signal


# --- what a chunk of ticks reads once ---------------------------------------------------------
SignalSlot = tuple[str, str, str]  # (key, symbol, timeframe)


@dataclass
class _Chunk:
    """Everything the chunk's bots need, read in a handful of queries."""

    candle_start: datetime
    bots: list[Bot]
    signal_slots: dict[int, SignalSlot] = field(default_factory=dict)
    signals: dict[SignalSlot, Signal | Exception] = field(default_factory=dict)
    candles: dict[tuple[str, str, str], Candle] = field(default_factory=dict)
    positions: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    accounts: dict[int, AccountBooks] = field(default_factory=dict)
    dry_runs: dict[int, DryRunBooks] = field(default_factory=dict)
    switches: list[KillSwitch] = field(default_factory=list)

    @classmethod
    def load(cls, bots: list[Bot], candle_start: datetime) -> _Chunk:
        chunk = cls(candle_start=candle_start, bots=bots)
        keys = {}
        environments = set()
        for bot in bots:
            params = json.dumps(bot.strategy_params, sort_keys=True, default=str)
            env = bot_market_environment(bot)
            environments.add(env)
            if (bot.strategy, params, env) not in keys:
                keys[(bot.strategy, params, env)] = signal_key(
                    bot.strategy, bot.strategy_params, env
                )
            chunk.signal_slots[bot.pk] = (
                keys[(bot.strategy, params, env)],
                bot.symbol,
                bot.timeframe,
            )
        slots = set(chunk.signal_slots.values())
        symbols = {bot.symbol for bot in bots}
        timeframes = {bot.timeframe for bot in bots}
        for stored in SharedSignal.objects.filter(
            candle_start=candle_start,
            key__in={key for key, _, _ in slots},
            symbol__in=symbols,
            timeframe__in=timeframes,
        ):
            chunk.signals[(stored.key, stored.symbol, stored.timeframe)] = _signal_from_json(
                stored.signal
            )
        for candle in Candle.objects.filter(
            start=candle_start,
            environment__in=environments,
            symbol__in=symbols,
            interval__in=timeframes,
        ):
            chunk.candles[(candle.environment, candle.symbol, candle.interval)] = candle
        for position in BotPosition.objects.filter(bot_id__in=[bot.pk for bot in bots]):
            chunk.positions[(position.bot_id, position.symbol)] = position.qty
        tenants = {bot.tenant_id for bot in bots}
        # The breaker's figures from the books: per account (live) and per bot (dry run), each a
        # few indexed LIMIT 1 lookups, so a year of snapshots costs what a day does (and it is
        # plain SQL: the demo runs it on SQLite).
        now = timezone.now()
        live = [b for b in bots if b.mode == Bot.Mode.LIVE and b.connection is not None]
        chunk.accounts = accounts_books(
            {b.connection.account_id for b in live if b.connection and b.connection.account_id},
            now=now,
        )
        chunk.dry_runs = dry_run_books([b for b in bots if b.mode == Bot.Mode.DRY_RUN], now=now)
        chunk.switches = list(
            KillSwitch.objects.filter(active=True).filter(
                Q(scope=KillSwitch.Scope.GLOBAL)
                | Q(scope=KillSwitch.Scope.TENANT, tenant_id__in=tenants)
                | Q(scope=KillSwitch.Scope.BOT, bot_id__in=[bot.pk for bot in bots])
            )
        )
        return chunk

    def signal(self, bot: Bot) -> Signal:
        slot = self.signal_slots[bot.pk]
        if slot not in self.signals:
            try:
                self.signals[slot] = _signal_compute(bot, slot[0], self.candle_start)
            except Exception as exc:  # every bot of this slot fails the same way, once computed
                self.signals[slot] = exc
        found = self.signals[slot]
        if isinstance(found, Exception):
            raise found
        return found

    def candle(self, bot: Bot) -> Candle:
        """The candle being decided, of the bot's own environment."""
        found = self.candles.get((bot_market_environment(bot), bot.symbol, bot.timeframe))
        if found is None:
            raise Candle.DoesNotExist(
                f"no {bot.symbol} {bot.timeframe} candle at {self.candle_start.isoformat()}"
            )
        return found

    def kill_switch(self, bot: Bot) -> str | None:
        for switch in self.switches:
            if (
                switch.scope == KillSwitch.Scope.GLOBAL
                or (switch.scope == KillSwitch.Scope.TENANT and switch.tenant_id == bot.tenant_id)
                or (switch.scope == KillSwitch.Scope.BOT and switch.bot_id == bot.pk)
            ):
                return str(switch.scope)
        return None

    def account(self, bot: Bot, gateway: ExchangeGateway | None) -> AccountState:
        """The breaker's and sizing's figures for this bot, net of flows (``bots.books``).

        A live account with no snapshot yet is read from the wallet once and recorded as its
        first snapshot; a dry-run bot uses its own virtual equity.
        """
        state = breaker_state(bot, accounts=self.accounts, dry_runs=self.dry_runs)
        if state is None and gateway is not None and bot.connection is not None:
            from bots.services.books import capital_flows_record

            equity = gateway.wallet_balance().total_equity
            # As the snapshot task does: the flows behind this wallet reading are recorded before
            # the snapshot is stamped, so none of them is later taken for a flow made after it.
            capital_flows_record(connection=bot.connection, gateway=gateway)
            snapshot_account_equity(connection=bot.connection, equity=equity, at=timezone.now())
            account_id = bot.connection.account_id
            if account_id is not None:
                self.accounts[account_id] = AccountBooks(equity, None, Decimal(0))
            state = breaker_state(bot, accounts=self.accounts, dry_runs=self.dry_runs)
        if state is None:  # live without a key: sized as a dry run would be
            equity = dry_run_equity(realised=Decimal(0), unrealised=Decimal(0))
            state = AccountState(equity, equity, max(bot.peak_equity, equity))
        return state


# --- the ticks --------------------------------------------------------------------------------
@dataclass
class _Result:
    """How one tick ends, written with the chunk's other results in one UPDATE."""

    status: str
    reasons: str = ""
    error: str = ""
    codes: list[PhraseJson] | None = None  # the reasons as codes, when they are several phrases
    signal: dict[str, Any] = field(default_factory=dict)
    # Why the exchange refused every order of the tick, when that says something about the bot:
    # "key" (the key was refused), "margin" (not enough available balance); else "".
    refused: str = ""
    key_unusable: bool = False


def tick_run(*, bot_id: int, candle_start: datetime) -> BotTick:
    """Run (or continue) one bot's tick for one candle. Safe to call again for the same pair."""
    ticks = ticks_run(bot_ids=[bot_id], candle_start=candle_start)
    if not ticks:
        raise BotTick.DoesNotExist(f"no tick for bot {bot_id} at {candle_start.isoformat()}")
    return ticks[0]


def ticks_run(*, bot_ids: Sequence[int], candle_start: datetime) -> list[BotTick]:
    """Run (or continue) the ticks of several bots for one candle; safe to call again.

    A tick that is no longer PENDING is left as it is, so a redelivered chunk redoes nothing that
    finished. If a write shared by the whole chunk fails, each bot is retried alone, so one bad row
    cannot fail its neighbours: every step is idempotent (intents by orderLinkId, sends by claim,
    simulated fills with their intents' state).
    """
    ticks = list(
        BotTick.objects.select_related("bot__template", "bot__connection", "bot__tenant").filter(
            bot_id__in=bot_ids, candle_start=candle_start
        )
    )
    pending = [tick for tick in ticks if tick.status == BotTick.Status.PENDING]
    if not pending:
        return ticks
    try:
        _run_pending(pending, candle_start)
    except Exception as exc:
        if len(pending) > 1:
            log.exception("ticks.chunk_failed", bots=len(pending), candle_start=str(candle_start))
            return [tick_run(bot_id=tick.bot_id, candle_start=candle_start) for tick in ticks]
        (tick,) = pending
        results = {tick.pk: _failed(tick.bot, exc)}
        _finish_all([tick], results, timezone.now())
        _bots_health([tick], results)
    return ticks


def _run_pending(pending: list[BotTick], candle_start: datetime) -> None:
    started = timezone.now()
    results: dict[int, _Result] = {}
    running: list[BotTick] = []
    for tick in pending:
        if not tick.bot.tenant.trades:
            # Dispatched before the tenant was suspended or disabled: no decision, no order.
            results[tick.pk] = _Result(
                BotTick.Status.SKIPPED, phrase(f"skip.tenant_{tick.bot.tenant.status}")
            )
        elif tick.bot.state == Bot.State.RUNNING:
            running.append(tick)
        else:
            said = phrase(f"skip.bot_{tick.bot.state}")
            results[tick.pk] = _Result(BotTick.Status.SKIPPED, said)
    publishes: list[Callable[[], None]] = []
    if running:
        _decide_and_act(running, results, publishes)
    _finish_all(pending, results, started)
    _bots_health(pending, results)
    if publishes:
        transaction.on_commit(partial(_publish_all, publishes))


def _decide_and_act(
    running: list[BotTick], results: dict[int, _Result], publishes: list[Callable[[], None]]
) -> None:
    chunk = _Chunk.load([tick.bot for tick in running], running[0].candle_start)
    plans: list[tuple[Bot, BotTick, RiskDecision, Signal, ExchangeGateway | None]] = []
    peaks: list[Bot] = []
    for tick in running:
        bot = tick.bot
        try:
            guarded = chunk.signal(bot)
        except Exception as exc:
            results[tick.pk] = _failed(bot, exc)
            continue
        if guarded.no_decision is not None:
            # No decision on a window with too few or missing candles: no order, the reason kept
            # as a code (rendered in the reader's language), the repair already requested.
            results[tick.pk] = _Result(BotTick.Status.SKIPPED, signal=_signal_to_json(guarded))
            continue
        try:
            decision, peak, signal, gateway = _decide(bot, tick, chunk)
        except Exception as exc:
            results[tick.pk] = _failed(bot, exc)
            continue
        if peak != bot.peak_equity:
            bot.peak_equity = peak
            peaks.append(bot)
        plans.append((bot, tick, decision, signal, gateway))
    if peaks:
        bulk_set(peaks, ["peak_equity"])

    intents = intents_write_many([(bot, tick, d.legs, d.reasons) for bot, tick, d, _s, _g in plans])
    by_bot: dict[int, list[OrderIntent]] = {}
    for intent in intents:
        by_bot.setdefault(intent.bot_id, []).append(intent)

    # Live: one queue per key (a key is never used by two threads at once), legs in order.
    queues: dict[int, tuple[ExchangeGateway, list[OrderIntent]]] = {}
    simulated: list[OrderIntent] = []
    prices: dict[int, Decimal] = {}
    for bot, _tick, _decision, _signal, gateway in plans:
        for intent in by_bot.get(bot.pk, []):
            if intent.state != OrderIntent.State.PENDING:
                continue  # sent, simulated or resolved by an earlier run of this tick
            if gateway is not None and bot.mode == Bot.Mode.LIVE:
                queues.setdefault(id(gateway), (gateway, []))[1].append(intent)
            else:
                simulated.append(intent)
                prices[intent.pk] = chunk.candle(bot).close
    failed_sends = intents_send_many(
        queues=list(queues.values()),
        threads=int(getattr(settings, "TICK_SEND_THREADS", DEFAULT_SEND_THREADS)),
    )
    fills = intents_fill_simulated(
        intents=simulated, prices=prices, exec_time=running[0].candle_start
    )
    publishes.extend(partial(_publish_fill, fill, position) for fill, position in fills)

    for bot, tick, decision, signal, _gateway in plans:
        reasons = " ".join(decision.reasons)
        errors = [failed_sends[i.pk] for i in by_bot.get(bot.pk, []) if i.pk in failed_sends]
        if errors:
            results[tick.pk] = _failed(bot, errors[0], reasons=reasons)
        else:
            results[tick.pk] = _Result(BotTick.Status.DONE, reasons, signal=_signal_to_json(signal))
        results[tick.pk].codes = phrases_json(decision.reasons)
        results[tick.pk].refused = _refusal(by_bot.get(bot.pk, []))
        if by_bot.get(bot.pk):
            publishes.append(
                partial(publish_bot_event, tenant_id=bot.tenant_id, bot_id=bot.pk, kind="orders")
            )
        if decision.breaker is not None:
            _trip_breaker(bot, decision)


def _decide(
    bot: Bot, tick: BotTick, chunk: _Chunk
) -> tuple[RiskDecision, Decimal, Signal, ExchangeGateway | None]:
    """This bot's decision from the chunk's shared reads; (decision, peak equity, signal, gateway)."""
    live = bot.mode == Bot.Mode.LIVE
    if live and (
        bot.connection is None or bot.connection.status != ExchangeConnection.Status.ACTIVE
    ):
        raise KeyUnusable(bot)
    signal = chunk.signal(bot)
    gateway = _gateway_for(bot) if live else None
    environment = bot.connection.environment if bot.connection else market_data_environment()
    instrument = instrument_get(environment, bot.symbol)
    candle = chunk.candle(bot)
    account = chunk.account(bot, gateway)
    decision = decide(
        signal=signal,
        symbol=bot.symbol,
        position_qty=chunk.positions.get((bot.pk, bot.symbol), Decimal(0)),
        price=candle.close,
        account=account,
        limits=limits_for(bot),
        instrument=instrument,
        now=tick.candle_start,
        kill_switch=chunk.kill_switch(bot),
    )
    return decision, account.peak_equity, signal, gateway


def _gateway_for(bot: Bot) -> ExchangeGateway | None:
    """The connection's cached gateway: no key is unsealed and no session built on every tick."""
    if bot.connection is None:
        return None
    return gateway_for_connection(bot.connection)


def _trip_breaker(bot: Bot, decision: RiskDecision) -> None:
    from bots.services.alerts import alert_raise

    bot_transition(bot=bot, to=Bot.State.PAUSED, reason=decision.reasons[-1])
    alert_raise(
        tenant_id=bot.tenant_id,
        bot_id=bot.pk,
        kind=f"breaker.{decision.breaker.value}",  # type: ignore[union-attr]
        severity="critical",
        params={"bot": bot.name, "reason": decision.reasons[-1]},
        dedupe_key=f"breaker:{bot.pk}",
    )


def _failed(bot: Bot, exc: BaseException, *, reasons: str = "") -> _Result:
    if isinstance(exc, KeyUnusable):  # expected, and handled by putting the bot in error
        log.warning("tick.key_unusable", tenant_id=str(bot.tenant_id), bot_id=bot.pk)
        return _Result(BotTick.Status.FAILED, reasons, error=exc.args[0], key_unusable=True)
    log.error(
        "tick.failed", tenant_id=str(bot.tenant_id), bot_id=bot.pk, exc_info=exc
    )  # the traceback of the bot's own failure, not the chunk's
    # The exchange refused the key while deciding (reading the wallet): as for a refused order.
    refused = "key" if type(exc).__name__ in KEY_REFUSALS else ""
    return _Result(BotTick.Status.FAILED, reasons, error=_error_phrase(exc), refused=refused)


def _error_phrase(exc: BaseException) -> Phrase:
    """The failure as a code: the exchange's error class and retCode, or only our side's class."""
    english = f"{type(exc).__name__}: {exc}".replace("%", "%%")
    if isinstance(exc, ExchangeError):
        return Phrase(f"exchange.{type(exc).__name__}", english, ret_code=exc.ret_code or "")
    return Phrase("tick.failed_internal", english, error=type(exc).__name__)


# --- bot health -------------------------------------------------------------------------------
class KeyUnusable(Exception):
    """A live bot whose exchange key is missing, refused by the daily check, or retired."""

    def __init__(self, bot: Bot) -> None:
        self.status = bot.connection.status if bot.connection else "missing"
        self.key = bot.connection.api_key_last4 if bot.connection else ""
        super().__init__(phrase("tick.key_unusable", status=phrase(f"key.status.{self.status}")))

    def __str__(self) -> str:
        return str(self.args[0])


KEY_REFUSALS = frozenset({"AuthenticationError", "WrongEnvironmentError", "PermissionDeniedError"})
MARGIN_REFUSALS = frozenset({"InsufficientBalanceError"})


def _refusal(intents: Sequence[OrderIntent]) -> str:
    """ "key" if the exchange refused the key, "margin" if every order sent was refused for
    balance; "" otherwise (nothing sent, or something went through)."""
    sent = [
        i
        for i in intents
        if i.state not in (OrderIntent.State.PENDING, OrderIntent.State.SIMULATED)
    ]
    codes = {i.error_code for i in sent if i.state == OrderIntent.State.REJECTED}
    if codes & KEY_REFUSALS:
        return "key"
    if sent and all(
        i.state == OrderIntent.State.REJECTED and i.error_code in MARGIN_REFUSALS for i in sent
    ):
        return "margin"
    return ""


def _bots_health(ticks: Sequence[BotTick], results: dict[int, _Result]) -> None:
    """Count each bot's ticks in a row that failed or had every order refused for margin; at
    ``BOT_ERROR_AFTER_FAILED_TICKS`` the bot goes to the error state with one alert. An unusable
    key puts the bot in error at once; a key the exchange refused is checked again right away
    (the daily check's service), which puts every bot on it in error with one alert."""
    from exchange.services.keys import exchange_key_validate

    limit = int(settings.BOT_ERROR_AFTER_FAILED_TICKS)
    changed: list[Bot] = []
    checked: set[int] = set()
    for tick in ticks:
        result, bot = results.get(tick.pk), tick.bot
        if result is None or result.status == BotTick.Status.SKIPPED:
            continue
        if result.key_unusable:
            _bot_key_error(bot)
            continue
        connection = bot.connection
        if result.refused == "key" and connection is not None and connection.pk not in checked:
            checked.add(connection.pk)
            connection = exchange_key_validate(connection=connection)
            if connection.status != ExchangeConnection.Status.ACTIVE:
                continue  # watch_key put the key's bots in error, with one alert
        failing = result.status == BotTick.Status.FAILED or result.refused in ("key", "margin")
        streak = bot.failure_streak + 1 if failing else 0
        if streak == bot.failure_streak:
            continue
        bot.failure_streak = streak
        changed.append(bot)
        if streak >= limit:
            _bot_streak_error(bot, result, streak)
    if changed:
        bulk_set(changed, ["failure_streak"])


def _bot_key_error(bot: Bot) -> None:
    connection = bot.connection
    key = connection.api_key_last4 if connection else ""
    said = phrase(f"key.status.{connection.status if connection else 'missing'}")
    bot_error(
        bot=bot,
        kind="bot.error.key",
        params={"bot": bot.name, "key": key, "reason": said},
        reason=phrase("bot.state.key", key=key, status=said),
    )


def _bot_streak_error(bot: Bot, result: _Result, streak: int) -> None:
    if result.refused == "margin":
        bot_error(
            bot=bot,
            kind="bot.error.margin",
            params={"bot": bot.name, "count": streak},
            reason=phrase("bot.state.margin"),
        )
    else:
        bot_error(
            bot=bot,
            kind="bot.error.failed_ticks",
            params={"bot": bot.name, "count": streak, "error": _short(result.error)},
            reason=phrase("bot.state.failed_ticks", count=streak, error=_short(result.error)),
        )


def _short(error: str) -> str:
    """An error for an alert: a coded one whole (it renders short), a plain text cut at 200."""
    return error if isinstance(error, Phrase) else error[:200]


def _finish_all(pending: list[BotTick], results: dict[int, _Result], started: datetime) -> None:
    """Every tick's outcome in one UPDATE; a tick with no result yet stays PENDING."""
    finished = timezone.now()
    done = []
    for tick in pending:
        result = results.get(tick.pk)
        if result is None:
            continue
        tick.status, tick.reasons, tick.error, tick.signal = (
            result.status,
            result.reasons,
            result.error,
            result.signal,
        )
        codes = phrases_json([result.reasons]) if result.codes is None else result.codes
        tick.reason_codes = codes + phrases_json([result.error])
        tick.started_at, tick.finished_at = started, finished
        done.append(tick)
    bulk_set(
        done,
        ["status", "reasons", "reason_codes", "error", "signal", "started_at", "finished_at"],
    )


# --- live push --------------------------------------------------------------------------------
def _publish_fill(fill: BotFill, position: BotPosition) -> None:
    publish_fill(fill=fill, position=position)


def _publish_all(calls: list[Callable[[], None]]) -> None:
    """Hand the chunk's pushes to the process's publisher thread and go on with the next chunk."""
    _publisher.submit(calls)


class _Publisher:
    """One thread per process running one event loop, on which every push of the ticks runs.

    A push called on its own builds an event loop and a channel-layer connection (2.5-3 ms here).
    Run from this loop's threads they share both, overlap one another (0.5 ms each) and, being in
    their own thread, overlap the next chunk's database and exchange waits instead of adding to
    them. Pushes only tell open pages to refresh: one lost with its process costs nothing, and a
    dead channel layer never undoes or delays a trade (the push functions log their own failures).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the loop and its thread (a forked child has neither, and maybe a held lock)."""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._pending: set[concurrent.futures.Future[None]] = set()

    def submit(self, calls: list[Callable[[], None]]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._run(calls), self._running_loop())
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for the pushes submitted so far (tests)."""
        with self._lock:
            pending = list(self._pending)
        concurrent.futures.wait(pending, timeout=timeout)

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("ticks.publish_failed", exc_info=future.exception())

    async def _run(self, calls: list[Callable[[], None]]) -> None:
        await asyncio.gather(*(sync_to_async(call, thread_sensitive=False)() for call in calls))

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # A forked worker child inherits the object but not the thread: start its own.
            if self._loop is None or self._pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                self._pending = set()
                threading.Thread(
                    target=self._loop.run_forever, name="tick-publisher", daemon=True
                ).start()
            return self._loop


_publisher = _Publisher()
os.register_at_fork(after_in_child=_publisher.reset)


def publishes_flush(timeout: float = 10.0) -> None:
    """Wait until the pushes of the ticks run so far in this process have been sent."""
    _publisher.flush(timeout)
