"""The browser's live-update socket: joins the user's group and forwards typed events.

The socket gets the same checks as a page: signed in, a second factor enrolled (a user who has
only passed the password is sent to TOTP setup by the pages and refused here), and a membership
in an active tenant for the tenant group. A socket stays open for hours, so the checks are made
again while it lives (at most every ``LIVE_SOCKET_RECHECK_SECONDS``, before an event is
forwarded): a member removed, a tenant disabled or a user deactivated stops receiving and is
closed.
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.middleware import MEMBERSHIP_SESSION_KEY
from ops.live import LiveMessage, tenant_group, user_group

UNAUTHENTICATED_CLOSE_CODE = 4401
FORBIDDEN_CLOSE_CODE = 4403


def socket_access(user: Any, chosen: str | None) -> tuple[bool, object | None]:
    """Whether the user may hold the socket (active, second factor enrolled), and the tenant
    their pages act for: the one chosen in the session (as the HTTP middleware does), else their
    first active one."""
    from accounts.middleware import user_has_second_factor
    from accounts.selectors import membership_in_use

    if not user.is_active or not user_has_second_factor(user):
        return False, None
    current = membership_in_use(user, chosen)
    return True, current.tenant_id if current else None


class LiveUpdatesConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Two-factor users only; joins the user's group and their tenant's group."""

    groups: list[str] = []
    group_names: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        session = self.scope.get("session")
        chosen = session.get(MEMBERSHIP_SESSION_KEY) if session is not None else None
        allowed, tenant_id = await database_sync_to_async(socket_access)(user, chosen)
        if not allowed:
            await self.close(code=FORBIDDEN_CLOSE_CODE)
            return
        self.user_id = user.pk
        self.chosen_tenant = chosen
        self.tenant_id = tenant_id
        self.checked_at = time.monotonic()
        self.group_names = [user_group(user.pk)]
        if tenant_id is not None:
            self.group_names.append(tenant_group(tenant_id))
        for group in self.group_names:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _still_allowed(self) -> bool:
        from accounts.models import User

        user = User.objects.filter(pk=self.user_id).first()
        if user is None:
            return False
        allowed, tenant_id = socket_access(user, self.chosen_tenant)
        return allowed and tenant_id == self.tenant_id

    async def _recheck(self) -> bool:
        """True while the socket may stay; closes it otherwise."""
        interval = float(getattr(settings, "LIVE_SOCKET_RECHECK_SECONDS", 30.0))
        if time.monotonic() - self.checked_at < interval:
            return True
        self.checked_at = time.monotonic()
        if await self._still_allowed():
            return True
        for group in self.group_names:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.group_names = []
        await self.close(code=FORBIDDEN_CLOSE_CODE)
        return False

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_event(self, event: LiveMessage) -> None:
        if await self._recheck():
            await self.send_json(event["payload"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket is push-only; a client's ping is answered so it can measure liveness.
        if isinstance(content, dict) and content.get("op") == "ping" and await self._recheck():
            await self.send_json({"op": "pong"})
