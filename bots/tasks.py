"""Thin tasks of the engine; the work is in ``bots.services``."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task


@shared_task(name="bots.dispatch_ticks")
def dispatch_ticks() -> int:
    """Beat, every few seconds: one tick per running bot per newly closed candle."""
    from bots.services.ticks import ticks_dispatch

    return len(ticks_dispatch())


@shared_task(name="bots.tick", track_runs=False)
def tick(bot_id: int, candle_start: str) -> str:
    """One bot, one candle. ``BotTick`` is its run record (so no TaskRun row per tick)."""
    from bots.services.ticks import tick_run

    return str(tick_run(bot_id=bot_id, candle_start=datetime.fromisoformat(candle_start)).status)
