"""The browser's live-update socket: joins the user's group and forwards typed events."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ops.live import LiveMessage, user_group

UNAUTHENTICATED_CLOSE_CODE = 4401


class LiveUpdatesConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Authenticated users only; one group per user (tenant groups arrive with tenants)."""

    groups: list[str] = []

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        self.group_name = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def live_event(self, event: LiveMessage) -> None:
        await self.send_json(event["payload"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is push-only; a client's ping is answered so it can measure liveness.
        if isinstance(content, dict) and content.get("op") == "ping":
            await self.send_json({"op": "pong"})
