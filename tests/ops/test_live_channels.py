"""Live updates travel over the real channels-redis layer to the user's socket."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from ops.live import live_publish, user_group
from tests.factories import UserFactory
from tradingsvc.asgi import application

ORIGIN = (b"origin", b"http://testserver")


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.django_db(transaction=True)
def test_message_published_on_redis_layer_reaches_the_users_socket():
    """A message sent with live_publish (as a task would) arrives on the user's websocket."""
    user = UserFactory()
    cookie = _session_cookie(user)

    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)]
        )
        connected, _ = await communicator.connect()
        assert connected
        from asgiref.sync import sync_to_async

        await sync_to_async(live_publish)(
            group=user_group(user.pk), kind="pnl", data={"today": "12.50"}
        )
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert asyncio.run(scenario()) == {"kind": "pnl", "data": {"today": "12.50"}}


@pytest.mark.django_db(transaction=True)
def test_anonymous_socket_is_refused():
    """Without a session the socket is closed with 4401."""

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN])
        connected, code = await communicator.connect()
        return connected, code

    assert asyncio.run(scenario()) == (False, 4401)


@pytest.mark.django_db(transaction=True)
def test_socket_from_a_foreign_origin_is_refused():
    """AllowedHostsOriginValidator rejects a page from another site, even with the user's cookie."""
    cookie = _session_cookie(UserFactory())

    async def scenario():
        communicator = WebsocketCommunicator(
            application,
            "/ws/live/",
            headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)],
        )
        connected, _ = await communicator.connect()
        return connected

    assert asyncio.run(scenario()) is False
