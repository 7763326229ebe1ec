"""The whole onboarding, in headless Chromium against the live server and the simulator.

The operator invites a client in admin; the client opens the emailed link, signs up, is forced
through TOTP setup, connects a simulator key that passes validation and invites a viewer; the
viewer signs up with 2FA, sees the data, and gets 403 on every change.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.mfa import totp_code_for_secret
from accounts.models import Membership
from exchange.models import ExchangeConnection
from tests.factories import TEST_PASSWORD, operator_with_otp, totp_now
from tests.fixtures.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIENT_PASSWORD = "client passphrase long enough 7"


def _invitation_path(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    found = re.search(r"/invite/[^/\s]+/", str(message.body))
    assert found, message.body
    return found[0]


def _sign_up_and_enrol(page, base: str, email: str) -> None:
    """Open the emailed link, choose a password, then set up TOTP as the app insists."""
    page.goto(base + _invitation_path(email))
    assert page.locator("#id_email").input_value() == email
    page.fill("#id_password1", CLIENT_PASSWORD)
    page.fill("#id_password2", CLIENT_PASSWORD)
    page.click("#invitation-accept button[type=submit]")
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("#id_code", totp_code_for_secret(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(base + "/app/")
    assert page.locator("#account-overview").is_visible()


def _reauthenticate_if_asked(page) -> None:
    if "/accounts/reauthenticate/" in page.url:
        page.fill("#id_password", CLIENT_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


def test_invite_signup_2fa_key_and_viewer(live_server, chromium, simulator, settings):
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    base = live_server.url
    operator, operator_secret = operator_with_otp("ops@example.test")
    _, api_key, api_secret = simulator.create_account(usdt="2500")

    # 1. The operator invites a client from admin.
    ops = chromium.new_context().new_page()
    ops.goto(base + "/admin/login/")
    ops.fill("#id_username", operator.email)
    ops.fill("#id_password", TEST_PASSWORD)
    ops.fill("#id_otp_token", totp_now(operator_secret))
    ops.click("input[type=submit]")
    ops.wait_for_url("**/admin/")
    ops.goto(base + "/admin/accounts/invitation/add/")
    ops.fill("#id_tenant_name", "Acme Capital")
    ops.fill("#id_email", "alice@example.test")
    ops.click("input[name=_save]")
    assert "Invitation emailed to alice@example.test" in ops.locator("ul.messagelist").inner_text()

    # 2. The client signs up from the emailed link and is forced through TOTP setup.
    alice = chromium.new_context().new_page()
    _sign_up_and_enrol(alice, base, "alice@example.test")
    screenshot(alice, "onboarding-account")

    # 3. She connects a simulator key; it is validated with the exchange before being stored.
    alice.goto(base + "/app/keys/")
    alice.select_option("#id_environment", "simulator")
    alice.fill("#id_api_key", api_key)
    alice.fill("#id_api_secret", api_secret)
    alice.click("#connect-key-form button[type=submit]")
    alice.wait_for_load_state()
    _reauthenticate_if_asked(alice)
    alice.wait_for_url("**/app/keys/")
    row = alice.locator(f".key-row[data-last4='{api_key[-4:]}']")
    assert "Working" in row.locator(".key-status").inner_text()
    assert api_secret not in alice.content()
    screenshot(alice, "onboarding-keys")
    assert ExchangeConnection.objects.get().status == ExchangeConnection.Status.ACTIVE

    # 4. She invites a viewer.
    alice.goto(base + "/app/team/")
    alice.fill("#id_email", "victor@example.test")
    alice.click("#invite-viewer-form button[type=submit]")
    alice.wait_for_load_state()
    _reauthenticate_if_asked(alice)
    alice.wait_for_url("**/app/team/")
    assert alice.get_by_text("victor@example.test").first.is_visible()

    # 5. The viewer signs up with 2FA and sees the data, without controls.
    victor = chromium.new_context().new_page()
    _sign_up_and_enrol(victor, base, "victor@example.test")
    assert Membership.objects.get(user__email="victor@example.test").role == Membership.Role.VIEWER
    victor.goto(base + "/app/keys/")
    assert victor.locator(f".key-row[data-last4='{api_key[-4:]}']").is_visible()
    assert victor.locator("#connect-key-form").count() == 0
    victor.goto(base + "/app/team/")
    assert victor.locator("#invite-viewer-form").count() == 0
    screenshot(victor, "onboarding-viewer-team")

    # 6. ...and every change is refused by the server, whatever the browser sends.
    csrf = next(c["value"] for c in victor.context.cookies() if c["name"] == "csrftoken")
    connection = ExchangeConnection.objects.get()
    for path, data in [
        ("/app/team/invite/", {"email": "mallory@example.test"}),
        (
            "/app/keys/connect/",
            {"environment": "simulator", "api_key": api_key, "api_secret": api_secret},
        ),
        (f"/app/keys/{connection.pk}/delete/", {}),
        (f"/app/keys/{connection.pk}/validate/", {}),
        ("/app/data/export/", {}),
        ("/app/data/delete/", {"confirm": "DELETE"}),
    ]:
        response = victor.request.post(
            base + path, form=data, headers={"X-CSRFToken": csrf, "Referer": base + "/app/"}
        )
        assert response.status == 403, f"{path} -> {response.status}"
    connection.refresh_from_db()
    assert connection.status == ExchangeConnection.Status.ACTIVE
