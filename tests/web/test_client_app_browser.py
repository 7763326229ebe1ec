"""The client web app in headless Chromium against daphne, a real worker, the stream runner and
the simulator: log in with 2FA, pick a template, start a bot, watch a fill's P&L arrive over the
WebSocket without a reload, pause, emergency stop; a viewer sees the same pages without controls.
"""

from __future__ import annotations

import pytest

from bots.models import Bot, BotFill, KillSwitch
from bots.services.ticks import ticks_dispatch
from exchange.services.candles import candles_sync
from tests.factories import client_with_2fa, connect_live
from tests.fixtures.browser import log_in_with_2fa, reauthenticate_if_asked, screenshot
from tests.fixtures.celery_worker import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGES = [
    "/app/",
    "/app/performance/",
    "/app/history/",
    "/app/activity/",
    "/app/notifications/",
    "/app/keys/",
    "/app/team/",
    "/app/security/",
    "/app/activity/audit/",
]


def test_client_starts_a_bot_sees_a_pushed_fill_pauses_and_stops_everything(
    live_stack, chromium, simulator
):
    owner = client_with_2fa()
    _uid, connection = connect_live(simulator, owner)
    base = live_stack.url
    # The test's own page probes (wait_for_function) are evaluated strings, which the site's
    # Content-Security-Policy refuses; the policy itself is walked in test_security_headers.
    page = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True).new_page()
    page.set_default_timeout(20_000)

    log_in_with_2fa(page, base, owner)
    screenshot(page, "app-01-empty-dashboard")

    # Pick a template and create a live bot on the connected key.
    page.click("#new-bot")
    page.check("input[name=template] >> nth=1")  # moderate (templates are ordered by risk)
    page.fill("#id_name", "Trend BTC")
    page.select_option("#id_symbol", "BTCUSDT")
    page.check("input[name=mode][value=live]")
    page.select_option("#id_connection", str(connection.pk))
    screenshot(page, "app-02-new-bot")
    page.click("main form button[type=submit]")
    reauthenticate_if_asked(page)  # a live bot needs the password again
    page.wait_for_url("**/settings/")
    screenshot(page, "app-03-bot-settings")
    bot = Bot.objects.get(tenant=owner.tenant)
    assert bot.template.slug == "moderate" and bot.mode == Bot.Mode.LIVE

    # Start it from the dashboard.
    page.goto(base + "/app/")
    page.click(f"#bot-{bot.pk} [data-action=start]")
    page.wait_for_selector(f"#bot-{bot.pk}[data-state=running]")
    page.wait_for_function("window.tradingsvcLive && window.tradingsvcLive.connected")
    before = page.inner_text("#pnl-total")
    page.evaluate("window.__sameDocument = true")

    # Beat's work, done here: candles, then the due tick; the worker sends the order, the
    # simulator fills it, the stream runner applies the fill and the page is told.
    candles_sync()
    assert ticks_dispatch(), "the running bot is due a tick"
    wait_for(lambda: BotFill.objects.filter(bot=bot).exists(), timeout=40, message="the fill")
    page.wait_for_function("document.querySelector('#fills tbody tr') !== null", timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True, "the page must not have reloaded"
    assert page.evaluate("window.tradingsvcLive.events") >= 1
    assert page.inner_text("#pnl-total") != before, "the fill's P&L (its fee) shows at once"
    assert page.locator("#positions tbody tr").count() == 1
    screenshot(page, "app-04-dashboard-after-fill")

    # Pause: one step.
    page.click(f"#bot-{bot.pk} [data-action=pause]")
    page.wait_for_selector(f"#bot-{bot.pk}[data-state=paused]")

    # Emergency stop: confirmation with a countdown that can still be cancelled...
    page.click("#emergency-stop")
    page.wait_for_selector("dialog.confirm-dialog[open]")
    screenshot(page, "app-05-emergency-confirm")
    page.click("dialog.confirm-dialog .cancel")
    page.wait_for_timeout(3500)
    assert not KillSwitch.objects.exists(), "cancelled within the countdown: nothing happens"
    # ...and when it is not cancelled, it stops everything and closes the position.
    page.check("#emergency-stop-form input[name=flatten]")
    page.click("#emergency-stop")
    page.wait_for_selector("#emergency-release", timeout=20_000)
    switch = KillSwitch.objects.get()
    assert switch.scope == KillSwitch.Scope.TENANT and switch.flatten and switch.active
    screenshot(page, "app-06-emergency-engaged")
    for path in PAGES[1:]:
        page.goto(base + path)
        screenshot(page, "app-page-" + path.strip("/").replace("/", "-"))

    # A viewer sees every page, with no control at all.
    viewer = client_with_2fa("viewer", tenant=owner.tenant)
    viewer_page = chromium.new_context(
        viewport={"width": 1280, "height": 800}, bypass_csp=True
    ).new_page()
    log_in_with_2fa(viewer_page, base, viewer)
    for path in PAGES:
        viewer_page.goto(base + path)
        assert (
            viewer_page.locator(
                "[data-action], #emergency-stop, #emergency-release, #new-bot"
            ).count()
            == 0
        ), path
    viewer_page.goto(base + "/app/")
    assert "Trend BTC" in viewer_page.inner_text("#bots")
    screenshot(viewer_page, "app-07-viewer-dashboard")
