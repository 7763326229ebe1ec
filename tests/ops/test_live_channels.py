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
    """A signed-in session of a user with a second factor (the socket refuses others)."""
    from accounts.mfa import client_totp_activate
    from accounts.middleware import user_has_second_factor

    if not user_has_second_factor(user):
        client_totp_activate(user)
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


@pytest.mark.django_db(transaction=True)
def test_a_fill_is_pushed_to_every_member_of_the_tenant_and_nobody_else():
    """A bot's fill reaches the owner's and the viewer's sockets over Redis, not another tenant's."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from bots.models import Bot, RiskTemplate
    from bots.services.fills import FillData, fill_apply
    from bots.services.tuning import bot_create
    from tests.factories import MembershipFactory

    owner = MembershipFactory(role="owner")
    viewer = MembershipFactory(role="viewer", tenant=owner.tenant)
    stranger = MembershipFactory(role="owner")
    template, _ = RiskTemplate.objects.get_or_create(
        slug="probe",
        defaults={
            "name": "Probe",
            "strategy": "trend_ema",
            "timeframe": "1",
            "symbols": ["BTCUSDT"],
            "risk_per_trade": "0.01",
            "max_position_multiple": "1",
            "max_leverage": "1",
            "daily_loss_limit": "0.05",
            "max_drawdown": "0.2",
        },
    )
    bot = bot_create(
        tenant=owner.tenant,
        template=template,
        name="b",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
        mode=Bot.Mode.DRY_RUN,
    ).bot
    cookies = [_session_cookie(m.user) for m in (owner, viewer, stranger)]

    async def scenario():
        from asgiref.sync import sync_to_async

        sockets = []
        for cookie in cookies:
            communicator = WebsocketCommunicator(
                application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)]
            )
            assert (await communicator.connect())[0]
            sockets.append(communicator)
        await sync_to_async(fill_apply)(
            bot=bot,
            intent=None,
            simulated=True,
            fill=FillData(
                "sim-1",
                "BTCUSDT",
                "Buy",
                Decimal("50000"),
                Decimal("0.1"),
                Decimal("2.75"),
                datetime(2025, 1, 1, tzinfo=UTC),
            ),
        )
        received = [await s.receive_json_from(timeout=5) for s in sockets[:2]]
        stranger_got_nothing = await sockets[2].receive_nothing(timeout=0.5)
        for s in sockets:
            await s.disconnect()
        return received, stranger_got_nothing

    received, stranger_got_nothing = asyncio.run(scenario())
    for message in received:
        assert message["kind"] == "fill"
        assert message["data"]["position_qty"] == "0.1"
        assert message["data"]["realised_pnl"] == "-2.75"  # the fee
    assert stranger_got_nothing


def _connect(cookie: bytes):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)]
        )
        result = await communicator.connect()
        await communicator.disconnect()
        return result

    return asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_password_only_session_without_a_second_factor_is_refused():
    """A user signed in with the password but no authenticator gets no socket (4403)."""
    user = UserFactory()
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    assert _connect(cookie) == (False, 4403)


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_stops_receiving_once_the_tenant_is_disabled_or_the_member_removed(settings):
    """Checked again while open: after the change the next event is not forwarded and the socket
    is closed."""
    from asgiref.sync import sync_to_async

    from accounts.models import Membership, Tenant
    from ops.live import tenant_group
    from tests.factories import MembershipFactory

    settings.LIVE_SOCKET_RECHECK_SECONDS = 0
    disabled = MembershipFactory(role="owner")
    removed = MembershipFactory(role="viewer")
    cookies = [_session_cookie(m.user) for m in (disabled, removed)]

    async def scenario():
        sockets = []
        for cookie in cookies:
            communicator = WebsocketCommunicator(
                application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)]
            )
            assert (await communicator.connect())[0]
            sockets.append(communicator)
        await sync_to_async(
            lambda: Tenant.objects.filter(pk=disabled.tenant_id).update(status="disabled")
        )()
        await sync_to_async(lambda: Membership.objects.filter(pk=removed.pk).delete())()
        outputs = []
        for member, communicator in zip((disabled, removed), sockets, strict=True):
            await sync_to_async(live_publish)(
                group=tenant_group(member.tenant_id), kind="pnl", data={"today": "1"}
            )
            outputs.append(await communicator.receive_output(timeout=5))
        return outputs

    outputs = asyncio.run(scenario())

    assert [o["type"] for o in outputs] == ["websocket.close", "websocket.close"]
    assert all(o.get("code") == 4403 for o in outputs)
