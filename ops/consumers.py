"""The browser's live-update socket: joins the user's group and forwards typed events."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.middleware import MEMBERSHIP_SESSION_KEY
from ops.live import LiveMessage, tenant_group, user_group

UNAUTHENTICATED_CLOSE_CODE = 4401


class LiveUpdatesConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Authenticated users only; joins the user's group and their tenant's group."""

    groups: list[str] = []
    group_names: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        self.group_names = [user_group(user.pk)]
        session = self.scope.get("session")
        chosen = session.get(MEMBERSHIP_SESSION_KEY) if session is not None else None
        tenant_id = await self._tenant_id(user, chosen)
        if tenant_id is not None:
            self.group_names.append(tenant_group(tenant_id))
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _tenant_id(self, user: Any, chosen: str | None) -> object | None:
        """The tenant the user's pages act for: the one chosen in the session (as the HTTP
        middleware does), else their first."""
        from accounts.selectors import membership_in_use

        current = membership_in_use(user, chosen)
        return current.tenant_id if current else None

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_event(self, event: LiveMessage) -> None:
        await self.send_json(event["payload"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is push-only; a client's ping is answered so it can measure liveness.
        if isinstance(content, dict) and content.get("op") == "ping":
            await self.send_json({"op": "pong"})
