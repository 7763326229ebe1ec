"""Walks every client URL in the URL conf: another tenant gets 404, a viewer gets 403 on writes.

Client pages live under ``/app/``. URLs are enumerated from the resolver, so a URL added later
joins the walk by itself; one that takes parameters must say how to fill them in
``OBJECT_KWARGS`` below, or this test fails and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.models import Invitation, Membership
from bots.models import Bot, KillSwitch
from tests.factories import reauthenticate
from tests.fixtures.routes import client_urls
from tests.fixtures.world import World

pytestmark = pytest.mark.django_db


# How to fill each parameterised client URL with tenant A's objects.
OBJECT_KWARGS: dict[str, Callable[[World], dict[str, Any]]] = {
    "portal:invitation_revoke": lambda w: {"pk": w.invitation_a.pk},
    "portal:invitation_resend": lambda w: {"pk": w.invitation_a.pk},
    "portal:key_validate": lambda w: {"pk": w.connection_a.pk},
    "portal:key_delete": lambda w: {"pk": w.connection_a.pk},
    "portal:key_replace": lambda w: {"pk": w.connection_a.pk},
    "portal:bot_tuning": lambda w: {"pk": w.bot_a.pk},
    "portal:bot_tuning_save": lambda w: {"pk": w.bot_a.pk},
    "portal:bot_control": lambda w: {"pk": w.bot_a.pk, "action": "pause"},
    "portal:alert_dismiss": lambda w: {"pk": w.alert_a.pk},
}


def _url(world: World, name: str, pattern: URLPattern) -> str:
    assert pattern.name, f"client URL {pattern.pattern} needs a name"
    if pattern.pattern.converters:
        assert name in OBJECT_KWARGS, (
            f"{name} takes parameters: add it to OBJECT_KWARGS in {__file__} "
            "so the tenant-isolation walk covers it"
        )
        return reverse(name, kwargs=OBJECT_KWARGS[name](world))
    return reverse(name)


def _client_for(membership: Membership) -> Client:
    """Signed in and freshly reauthenticated, so sensitive views get as far as their checks."""
    client = Client()
    client.force_login(membership.user)
    reauthenticate(client)
    return client


def test_walk_covers_the_client_urls():
    names = {name for name, _ in client_urls()}
    assert {
        "portal:dashboard",
        "portal:team",
        "portal:invitation_revoke",
        "portal:bot_control",
        "portal:performance",
        "portal:history_csv",
        "portal:emergency_stop",
        "portal:notifications_save",
    } <= names


def test_another_tenant_gets_404_for_every_object_url_and_sees_none_of_the_data(world):
    outsider = _client_for(world.owner_b)
    for name, pattern in client_urls():
        url = _url(world, name, pattern)
        if pattern.pattern.converters:
            for method in (outsider.get, outsider.post):
                response = method(url)
                assert response.status_code in (404, 405), (
                    f"{method.__name__.upper()} {url} -> {response.status_code}"
                )
                if response.status_code == 405:  # GET-only or POST-only: the other method must 404
                    continue
        else:
            response = outsider.get(url)
            if response.status_code == 405:
                continue
            assert response.status_code == 200, f"GET {url} -> {response.status_code}"
            page = (
                b"".join(response.streaming_content) if response.streaming else response.content
            ).decode()
            for marker in (
                world.owner_a.tenant.name,
                world.owner_a.user.email,
                "pending@example.test",
                "Tenant A bot",
                "Tenant A alert",
            ):
                assert marker not in page, f"{url} shows tenant A's {marker!r} to tenant B"


def test_viewer_sees_every_page_and_gets_403_on_every_write(world):
    viewer = _client_for(world.viewer_a)
    for name, pattern in client_urls():
        url = _url(world, name, pattern)
        get = viewer.get(url)
        assert get.status_code in (200, 405), f"viewer GET {url} -> {get.status_code}"
        post = viewer.post(url, {"email": "someone@example.test"})
        assert post.status_code in (403, 405), f"viewer POST {url} -> {post.status_code}"
        if get.status_code == 405:
            assert post.status_code == 403, f"{url} is a write and must refuse a viewer with 403"
    world.invitation_a.refresh_from_db()
    assert world.invitation_a.revoked_at is None
    world.bot_a.refresh_from_db()
    world.alert_a.refresh_from_db()
    assert world.bot_a.state == Bot.State.RUNNING and world.alert_a.dismissed_at is None
    assert not KillSwitch.objects.exists()
    assert not Invitation.objects.filter(email="someone@example.test").exists()


def test_a_client_gets_no_admin_page_at_all(world):
    client = _client_for(world.owner_a)
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
