"""Typed payloads pushed to browsers over the channel layer, and the one function that sends them."""

from __future__ import annotations

from typing import Any, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


class LiveMessage(TypedDict):
    """What travels on the channel layer; ``payload`` is forwarded to the browser as JSON."""

    type: str  # always "live.event": the consumer method that handles it
    payload: dict[str, Any]


def user_group(user_id: int) -> str:
    """The group of one user's open sockets."""
    return f"user.{user_id}"


def tenant_group(tenant_id: object) -> str:
    """The group of every open socket of a tenant's members (owner and viewers)."""
    return f"tenant.{tenant_id}"


def live_publish(*, group: str, kind: str, data: dict[str, Any]) -> None:
    """Push ``{"kind": kind, "data": data}`` to every socket in ``group`` (callable from tasks)."""
    layer = get_channel_layer()
    if layer is None:
        return
    message: LiveMessage = {"type": "live.event", "payload": {"kind": kind, "data": data}}
    async_to_sync(layer.group_send)(group, message)
