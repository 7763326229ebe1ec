"""The browser fixture drives headless Chromium against the live server."""

from __future__ import annotations

import pytest

from tests.factories import TEST_PASSWORD, operator_with_otp, totp_now
from tests.fixtures.browser import screenshot

pytestmark = pytest.mark.browser


def test_browser_loads_the_home_page_and_finds_its_heading(live_server, page):
    """The landing page renders with its stylesheet, and its hero heading is visible."""
    page.goto(live_server.url + "/")
    heading = page.locator("#home-hero h1")
    assert heading.is_visible()
    assert "Bybit" in heading.inner_text()
    # The stylesheet loaded (served locally): the brand link is coloured by app.css.
    assert page.locator(".brand").evaluate("e => getComputedStyle(e).color") == "rgb(11, 110, 79)"
    screenshot(page, "home")


def test_operator_logs_into_admin_in_the_browser(live_server, page):
    """A staff user signs in through the admin login form with a TOTP code and reaches the index."""
    operator, secret = operator_with_otp("ops@example.test")
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", TEST_PASSWORD)
    page.fill("#id_otp_token", totp_now(secret))
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").is_visible()
    assert page.get_by_text("Task runs").is_visible()
