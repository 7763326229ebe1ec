"""Executions: stored once per (exchange account, exec id), then handed to the engine.

Every key of an account streams and catches up the same fills; storing them by the account's own
ids makes the second arrival a no-op, whichever key it came through.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from exchange.models import ExchangeConnection, Execution
from exchange.streams.events import ExecutionEvent, dispatch
from exchange.types import Execution as ExecutionData


def execution_store(
    *, connection_id: int, executions: Iterable[ExecutionData], source: str
) -> None:
    """Insert fills; one already stored (same exec id on this account) is left untouched."""
    account_id = (
        ExchangeConnection.objects.filter(pk=connection_id)
        .values_list("account_id", flat=True)
        .first()
    )
    if account_id is None:
        raise ValueError(f"connection {connection_id} is not tied to an exchange account")
    rows = [
        Execution(
            account_id=account_id,
            connection_id=connection_id,
            exec_id=e.exec_id,
            order_id=e.order_id,
            order_link_id=e.order_link_id,
            symbol=e.symbol,
            side=e.side,
            exec_price=e.exec_price,
            exec_qty=e.exec_qty,
            exec_value=e.exec_value,
            exec_fee=e.exec_fee,
            fee_rate=e.fee_rate,
            exec_type=e.exec_type,
            is_maker=e.is_maker,
            closed_size=e.closed_size,
            exec_time=e.exec_time,
            source=source,
        )
        for e in executions
    ]
    if rows:
        Execution.objects.bulk_create(rows, ignore_conflicts=True)


def _as_data(row: Execution) -> ExecutionData:
    return ExecutionData(
        exec_id=row.exec_id,
        order_id=row.order_id,
        order_link_id=row.order_link_id,
        symbol=row.symbol,
        side=row.side,
        exec_price=row.exec_price,
        exec_qty=row.exec_qty,
        exec_value=row.exec_value,
        exec_fee=row.exec_fee,
        fee_rate=row.fee_rate,
        exec_type=row.exec_type,
        is_maker=row.is_maker,
        closed_size=row.closed_size,
        exec_time=row.exec_time,
    )


def executions_hand_over(*, connection_ids: Iterable[int] | None = None, limit: int = 1000) -> int:
    """Offer unhandled executions to the engine, oldest first; returns how many were taken.

    ``connection_ids`` limits it to the accounts those keys reach (all of each account's fills).
    """
    qs = Execution.objects.filter(handled_at=None).order_by("exec_time", "id")
    if connection_ids is not None:
        accounts = ExchangeConnection.objects.filter(pk__in=list(connection_ids)).values(
            "account_id"
        )
        qs = qs.filter(account_id__in=accounts)
    taken = 0
    for row in qs[:limit]:
        event = ExecutionEvent(
            connection_id=row.connection_id, execution=_as_data(row), account_id=row.account_id
        )
        if not dispatch(event):
            continue  # offered again next pass
        taken += Execution.objects.filter(pk=row.pk, handled_at=None).update(
            handled_at=timezone.now()
        )
    return taken
