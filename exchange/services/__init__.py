"""Writes and side effects of the exchange app (HackSoft style: keyword-only, ``<entity>_<action>``).

- ``market_data``: who uses which (symbol, interval); ``market_data_subscribe`` / ``_unsubscribe``.
- ``candles``: ``candles_sync`` (the beat task's body): one fetch per pair, backfill, gap repair.
- ``executions``: ``execution_store`` (idempotent by exec id) and the hand-over to the engine.
"""

from exchange.services.market_data import (
    market_data_in_use,
    market_data_subscribe,
    market_data_unsubscribe,
)

__all__ = ["market_data_in_use", "market_data_subscribe", "market_data_unsubscribe"]
