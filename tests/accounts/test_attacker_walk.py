"""An attacker's walk: every route, every admin page and action, and the live socket, tried by
each role that should not get further than its own place, with the status each must get.

Roles: anonymous; password-only (signed in, no second factor); a viewer of tenant A; the owner of
tenant B; support staff; an operator. Tenant A's owner is the victim and holds one object of
each kind. Every route of the URL conf must be classified in ``ROUTES`` below, so a new page
cannot skip the walk; the walk prints its size. No role below the owner may change anything: the
database is compared before and after each of their walks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import connection
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.models import User
from tests.factories import (
    UserFactory,
    admin_login,
    reauthenticate,
    staff_with_role,
)
from tests.fixtures.routes import url_routes
from tests.fixtures.world import World

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ["anonymous", "password_only", "viewer", "other_owner", "support", "operator"]
# Roles that must not change a single row, whatever they post.
READ_ONLY_ROLES = ["anonymous", "password_only", "viewer", "support"]
LOGIN = "/accounts/login/"
TOTP_SETUP = "/accounts/2fa/totp/activate/"


@dataclass(frozen=True)
class Route:
    """How a route is reached: ``kind`` sets what each role gets; ``kwargs`` fill its
    parameters with tenant A's objects (another tenant's objects, for tenant B's owner)."""

    kind: str  # public | auth_flow | token_link | client_read | client_write
    kwargs: Callable[[World], dict[str, Any]] | None = None


def _pk(attr: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": getattr(w, attr).pk}


ROUTES: dict[str, Route] = {
    # Public, and the sign-in flows (allauth): any role, never a server error.
    "home": Route("public"),
    "healthz": Route("public"),
    "set_language": Route("public"),
    **{
        name: Route("auth_flow")
        for name in (
            "account_login",
            "account_logout",
            "account_inactive",
            "account_signup",
            "account_reauthenticate",
            "account_email",
            "account_email_verification_sent",
            "account_change_password",
            "account_set_password",
            "account_reset_password",
            "account_confirm_login_code",
            "account_reset_password_from_key_done",
            "account_reset_password_done",
            "mfa_index",
            "mfa_authenticate",
            "mfa_reauthenticate",
            "mfa_activate_totp",
            "mfa_deactivate_totp",
            "mfa_view_recovery_codes",
            "mfa_generate_recovery_codes",
            "mfa_download_recovery_codes",
            "usersessions_list",
        )
    },
    "account_confirm_email": Route("auth_flow", lambda w: {"key": "forged-key"}),
    "account_reset_password_from_key": Route(
        "auth_flow", lambda w: {"uidb36": "1", "key": "forged-key"}
    ),
    # Links that carry their own token: a forged one gets nothing.
    "accounts:invitation_accept": Route("token_link", lambda w: {"token": "forged-token"}),
    "portal:emergency_link": Route("token_link", lambda w: {"token": "forged-token"}),
    # Client pages (reads).
    **{
        name: Route("client_read")
        for name in (
            "portal:keys",
            "portal:team",
            "portal:audit",
            "portal:security",
            "portal:dashboard",
            "portal:dashboard_live",
            "portal:bot_new",
            "portal:history",
            "portal:history_csv",
            "portal:activity",
            "portal:notifications",
            "portal:performance",
        )
    },
    "portal:bot_tuning": Route("client_read", _pk("bot_a")),
    # Client writes.
    **{
        name: Route("client_write")
        for name in (
            "portal:key_connect",
            "portal:team_invite",
            "portal:data_export",
            "portal:data_delete",
            "portal:emergency_stop",
            "portal:emergency_stop_release",
            "portal:notifications_save",
        )
    },
    "portal:key_validate": Route("client_write", _pk("connection_a")),
    "portal:key_delete": Route("client_write", _pk("connection_a")),
    "portal:key_replace": Route("client_write", _pk("connection_a")),
    "portal:invitation_revoke": Route("client_write", _pk("invitation_a")),
    "portal:invitation_resend": Route("client_write", _pk("invitation_a")),
    "portal:bot_tuning_save": Route("client_write", _pk("bot_a")),
    "portal:bot_control": Route("client_write", lambda w: {"pk": w.bot_a.pk, "action": "stop"}),
    "portal:alert_dismiss": Route("client_write", _pk("alert_a")),
}


def site_routes() -> dict[str, URLPattern]:
    """Every named route but the admin's (walked from its registry below)."""
    return {name: p for route, name, p in url_routes() if not route.startswith("admin/") and name}


def _clients(world: World) -> dict[str, Client]:
    """One signed-in client per role; members confirmed their password just now, so every
    sensitive view gets as far as its access checks."""
    clients = {"anonymous": Client()}
    password_only = Client()
    password_only.force_login(cast(User, UserFactory(email="no-2fa@example.test")))
    clients["password_only"] = password_only
    for role, membership in (("viewer", world.viewer_a), ("other_owner", world.owner_b)):
        client = Client()
        client.force_login(membership.user)
        reauthenticate(client)
        clients[role] = client
    for role in ("support", "operator"):
        user, secret = staff_with_role(role, email=f"{role}-walk@example.test")
        client = Client()
        admin_login(client, user, secret)
        clients[role] = client
    return clients


VOLATILE_TABLES = {
    "django_session",
    "usersessions_usersession",
    "accounts_auditevent",
    "axes_accesslog",
    "axes_accessattempt",
    "axes_accessfailurelog",
    "mfa_authenticator",
    "ops_taskrun",
}


def database_fingerprint() -> str:
    """A digest of every row of every table a visit cannot change by merely happening
    (sessions, the audit trail, sign-in logs and last-login times are left out)."""
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table in VOLATILE_TABLES:
                continue
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            rows = sorted(cursor.fetchall())
            for (row,) in rows:
                data = json.loads(row)
                data.pop("last_login", None)
                data.pop("last_used_at", None)
                digest.update(table.encode() + json.dumps(data, sort_keys=True).encode())
    return digest.hexdigest()


def _expected(kind: str, role: str, has_object: bool) -> Callable[[int, str], bool]:
    """What a role may get on a kind of route: (status, redirect location) -> fine?"""
    never_5xx: Callable[[int, str], bool] = lambda status, _l: status < 500  # noqa: E731
    if kind == "public":  # /healthz answers 503 when a dependency is down (no worker here)
        return lambda status, _l: status < 500 or status == 503
    if kind == "auth_flow":
        return never_5xx
    if kind == "token_link":
        return lambda status, _l: status in (200, 404, 410)
    if role == "anonymous":
        return lambda status, location: status == 302 and location.startswith(LOGIN)
    if role in ("password_only", "support", "operator"):
        # No second factor of the client app (staff use the admin's): sent to set one up.
        return lambda status, location: status == 302 and location.startswith(TOTP_SETUP)
    if role == "viewer":
        return (lambda s, _l: s == 200) if kind == "client_read" else (lambda s, _l: s == 403)
    # The owner of tenant B: tenant A's objects do not exist for them.
    if has_object:
        return lambda status, _l: status == 404
    return never_5xx


def test_every_route_is_classified():
    """A route added to the URL conf must be put in ROUTES (this file) before it ships."""
    unclassified = sorted(set(site_routes()) - set(ROUTES))
    gone = sorted(set(ROUTES) - set(site_routes()))

    assert unclassified == [], f"classify these routes in ROUTES ({__file__})"
    assert gone == []


def _visit(client: Client, kind: str, url: str) -> tuple[int, str]:
    write = kind == "client_write"
    response = client.post(url, {"confirmed": "yes"}) if write else client.get(url)
    return response.status_code, response.get("Location", "")


def _admin_urls() -> list[tuple[str, str]]:
    """(label, url) for every registered model's list, add form, and one object's page."""
    urls = []
    for model in admin.site._registry:
        meta = model._meta
        urls.append(
            (f"{meta.label} list", reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        )
        urls.append((f"{meta.label} add", reverse(f"admin:{meta.app_label}_{meta.model_name}_add")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                (
                    f"{meta.label} change",
                    reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]),
                )
            )
    return urls


def _admin_actions() -> list[tuple[str, str, str, Any]]:
    """(model label, action name, changelist url, an object pk) for every action offered."""
    from django.test import RequestFactory

    from tests.factories import StaffUserFactory

    request = RequestFactory().get("/admin/")
    request.user = cast(User, StaffUserFactory(email="enumerator@example.test"))
    found = []
    for model, model_admin in admin.site._registry.items():
        first = model._default_manager.order_by("pk").first()
        meta = model._meta
        for name in model_admin.get_actions(request):
            found.append(
                (
                    meta.label,
                    name,
                    reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
                    first.pk if first else None,
                )
            )
    return found


def _socket(cookie: str | None) -> tuple[bool, int | None]:
    from tradingsvc.asgi import application

    headers = [(b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))

    async def scenario() -> tuple[bool, int | None]:
        communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return asyncio.run(scenario())


SOCKET_EXPECTED = {
    "anonymous": (False, 4401),
    "password_only": (False, 4403),
    "viewer": (True, None),
    "other_owner": (True, None),
    "support": (False, 4403),  # staff hold no client second factor: no live data for them
    "operator": (False, 4403),
}


def test_the_attackers_walk(world, capsys):
    """Every route, admin page, admin action and the socket, for every role: the expected
    status each time, and not one row changed by a role that may change nothing."""
    clients = _clients(world)
    routes = site_routes()
    admin_urls = _admin_urls()
    actions = _admin_actions()
    wrong: list[str] = []
    changed: list[str] = []

    for role in ROLES:
        client = clients[role]
        before = database_fingerprint()
        # Every route.
        for name, route in ROUTES.items():
            kwargs = route.kwargs(world) if route.kwargs else None
            url = reverse(name, kwargs=kwargs) if kwargs else reverse(name)
            if name == "account_logout":
                continue  # walked last: it ends the role's session
            status, location = _visit(client, route.kind, url)
            if not _expected(route.kind, role, bool(kwargs))(status, location):
                wrong.append(f"{role} {route.kind} {url}: {status} {location}")
        # Every admin page.
        for label, url in admin_urls:
            response = client.get(url)
            status = response.status_code
            if role in ("support", "operator"):
                fine = (
                    status in (200, 403)
                    if role == "support" or label.endswith("add")
                    else status == 200
                )
                if role == "support" and label.endswith("add"):
                    fine = status == 403
            else:
                fine = status == 302 and "/admin/login/" in response.get("Location", "")
            if not fine:
                wrong.append(f"{role} admin {label}: {status}")
        # Every admin action, posted on one object (the operator's are checked as offered).
        if role != "operator":
            for label, action, url, pk in actions:
                response = client.post(
                    url, {"action": action, helpers.ACTION_CHECKBOX_NAME: [pk] if pk else []}
                )
                if response.status_code >= 500:
                    wrong.append(f"{role} admin action {label}.{action}: {response.status_code}")
        if role in READ_ONLY_ROLES and database_fingerprint() != before:
            changed.append(role)
        status, location = _visit(client, "auth_flow", reverse("account_logout"))
        if status >= 500:
            wrong.append(f"{role} logout: {status}")

    sockets = {}
    for role in ROLES:
        if role == "anonymous":
            sockets[role] = _socket(None)
            continue
        # A fresh session per role (the walk above signed each one out).
        fresh = {
            "password_only": lambda: UserFactory(email="no-2fa-socket@example.test"),
            "viewer": lambda: world.viewer_a.user,
            "other_owner": lambda: world.owner_b.user,
            "support": lambda: staff_with_role("support", email="support-sock@example.test")[0],
            "operator": lambda: staff_with_role("operator", email="operator-sock@example.test")[0],
        }[role]()
        client = Client()
        client.force_login(fresh)
        sockets[role] = _socket(client.cookies["sessionid"].value)

    with capsys.disabled():
        sys.stdout.write(
            f"\nattacker's walk: {len(routes)} routes x {len(ROLES)} roles = "
            f"{len(routes) * len(ROLES)} visits; {len(admin_urls)} admin pages x {len(ROLES)} roles"
            f" = {len(admin_urls) * len(ROLES)}; {len(actions)} admin actions x "
            f"{len(ROLES) - 1} roles = {len(actions) * (len(ROLES) - 1)}; "
            f"{len(sockets)} socket cases\n"
        )
    assert wrong == [], "\n".join(wrong)
    assert changed == [], "these roles changed rows they may not change"
    assert sockets == SOCKET_EXPECTED
