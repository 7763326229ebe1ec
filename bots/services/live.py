"""What the engine pushes to the web app over the channel layer, as typed payloads."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

import structlog

from bots.models import BotFill, BotPosition
from ops.live import live_publish, tenant_group

log = structlog.stdlib.get_logger(__name__)


class FillPayload(TypedDict):
    bot_id: int
    symbol: str
    side: str
    qty: str
    price: str
    realised_pnl: str
    position_qty: str
    position_avg_price: str
    position_realised_pnl: str


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def publish_fill(*, fill: BotFill, position: BotPosition) -> None:
    """A fill and the position after it, to every open socket of the tenant."""
    payload: FillPayload = {
        "bot_id": fill.bot_id,
        "symbol": fill.symbol,
        "side": fill.side,
        "qty": _s(fill.qty),
        "price": _s(fill.price),
        "realised_pnl": _s(fill.realised_pnl),
        "position_qty": _s(position.qty),
        "position_avg_price": _s(position.avg_price),
        "position_realised_pnl": _s(position.realised_pnl),
    }
    try:
        live_publish(group=tenant_group(fill.tenant_id), kind="fill", data=dict(payload))
    except Exception:  # a dead channel layer must never undo a fill
        log.warning(
            "live.publish_failed", tenant_id=str(fill.tenant_id), bot_id=fill.bot_id, exc_info=True
        )


def publish_bot_event(*, tenant_id: object, bot_id: int | None, kind: str) -> None:
    """Tell the tenant's open pages that something of ``kind`` changed (orders, state, alerts,
    equity); pages then fetch the numbers they show, so one small message serves every page."""
    try:
        live_publish(group=tenant_group(tenant_id), kind=kind, data={"bot_id": bot_id})
    except Exception:  # a dead channel layer must never undo the change it reports
        log.warning(
            "live.publish_failed", tenant_id=str(tenant_id), bot_id=bot_id, kind=kind, exc_info=True
        )
