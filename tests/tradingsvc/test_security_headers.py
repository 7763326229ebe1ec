"""Every page carries a Content-Security-Policy that allows no inline or foreign script and no
framing, and a Permissions-Policy that turns off camera, microphone, location and payment."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import client_with_2fa

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/app/", "/admin/login/"])
def test_pages_carry_a_strict_content_security_policy_and_a_permissions_policy(path):
    """script-src is 'self' only; framing, plugins and foreign form targets are refused."""
    client = Client()
    client.force_login(client_with_2fa().user)

    response = client.get(path)

    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    permissions = response["Permissions-Policy"]
    assert all(
        f"{feature}=()" in permissions
        for feature in ("camera", "microphone", "geolocation", "payment")
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_client_page_breaks_under_the_policy(live_server, chromium):
    """Every client page, the chart included, runs in Chromium without one policy violation."""
    from bots.models import RiskTemplate
    from bots.services.tuning import bot_create
    from demo.perf_data import seed_history
    from tests.fixtures.browser import log_in_with_2fa

    owner = client_with_2fa()
    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name="Trend",
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    seed_history(bot=bot, orders=20, days=3)
    page = chromium.new_context().new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    log_in_with_2fa(page, live_server.url, owner)

    for path in (
        "/app/",
        "/app/performance/",
        "/app/history/",
        "/app/notifications/",
        "/app/keys/",
        "/app/team/",
        "/app/security/",
    ):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    chart_drawn = page.goto(live_server.url + "/app/performance/") and page.wait_for_selector(
        ".js-plotly-plot, .plotly", timeout=10_000
    )

    assert violations == []
    assert chart_drawn
