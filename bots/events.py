"""Typed events from the engine for the apps above it (reports folds snapshots into its rollups).

Handlers are named in ``BOTS_EVENT_HANDLERS`` and called through ``tradingsvc.lib.events``, the one
inversion mechanism (``exchange.streams.events`` and ``exchange.events`` work the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from bots.models import EquitySnapshot
from tradingsvc.lib import events


@dataclass(frozen=True)
class SnapshotTaken:
    """An equity snapshot was written (any series: tenant, bot or exchange account)."""

    snapshot: EquitySnapshot


BotsEvent = SnapshotTaken


def snapshot_taken(snapshot: EquitySnapshot) -> None:
    # Raised, as the direct call it replaces was: a snapshot whose rollup failed is not half-kept.
    events.dispatch("BOTS_EVENT_HANDLERS", SnapshotTaken(snapshot=snapshot), raise_errors=True)
