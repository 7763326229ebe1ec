"""Typed events about tenants, for the apps above accounts (the engine halts, the exchange erases
keys and exports them).

Handlers are named in ``ACCOUNTS_EVENT_HANDLERS`` and called through ``tradingsvc.lib.events``,
the one inversion mechanism, in the order the setting lists them (the engine cancels orders before
the exchange erases the keys it cancels with).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import Tenant
from tradingsvc.lib import events

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class TradingHalted:
    """A tenant was suspended, disabled or is being erased: cancel its open orders.

    ``now``: in this process, raising if the exchange could not be asked (erasure waits for a
    retry); otherwise enqueued after commit and retried in the background."""

    tenant: Tenant
    now: bool = False


@dataclass(frozen=True)
class TenantErasing:
    """Inside the erasure's transaction: remove what the handler's app holds of the tenant."""

    tenant: Tenant


@dataclass(frozen=True)
class TenantExporting:
    """The tenant's data export: a handler answers an :class:`ExportPart`, or None."""

    tenant: Tenant


@dataclass(frozen=True)
class ExportPart:
    """Hand-made files for the export (``<name>.json``/``.csv``: flat rows, no secrets). A model
    exported this way says so with ``exported_by_hand = True``, and the generic walk over
    tenant-owned models leaves it out."""

    files: dict[str, Rows] = field(default_factory=dict)


AccountsEvent = TradingHalted | TenantErasing | TenantExporting


def accounts_event_send(event: AccountsEvent) -> list[Any]:
    """Call every handler in order; an error propagates (the caller's transaction rolls back)."""
    return events.call_handlers("ACCOUNTS_EVENT_HANDLERS", event)
