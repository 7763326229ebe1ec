"""Two-factor authentication is mandatory; lockout after 5 failures; idle sessions expire."""

from __future__ import annotations

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.mfa import client_totp_activate, totp_code_for_secret
from accounts.models import AuditEvent, OperatorTOTPDevice
from accounts.services.tenants import user_unlock
from tests.factories import (
    TEST_PASSWORD,
    MembershipFactory,
    StaffUserFactory,
    UserFactory,
    operator_with_otp,
)

pytestmark = pytest.mark.django_db


def test_client_without_second_factor_is_sent_to_totp_setup_before_any_data():
    membership = MembershipFactory()
    client = Client()
    client.force_login(membership.user)
    for path in ("/app/", "/app/keys/", "/app/team/", "/app/activity/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_client_login_asks_for_the_totp_code_then_lets_in():
    membership = MembershipFactory()
    secret = client_totp_activate(membership.user)
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": membership.user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/app/").status_code == 302  # not in yet
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code_for_secret(secret)})
    assert response.status_code == 302
    assert client.get("/app/").status_code == 200


def test_totp_secret_is_sealed_at_rest():
    user = UserFactory()
    secret = client_totp_activate(user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert stored.startswith("v1:") and secret not in stored


def test_operator_device_key_is_sealed_and_admin_needs_the_code():
    operator, secret = operator_with_otp()
    device = OperatorTOTPDevice.objects.get(user=operator)
    assert device.key_sealed.startswith("v1:")
    client = Client()
    response = client.post(
        "/admin/login/",
        {"username": operator.email, "password": TEST_PASSWORD, "otp_token": "000000"},
    )
    assert response.status_code == 200 and client.get("/admin/").status_code != 200
    device.throttle_reset()
    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": operator.email,
            "password": TEST_PASSWORD,
            "otp_token": totp_code_for_secret(secret),
            "next": "/admin/",
        },
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_without_a_device_cannot_reach_admin():
    staff = StaffUserFactory()
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_lockout_after_five_failures_until_the_operator_unlocks(settings):
    user = UserFactory(email="locked@example.test")
    client = Client(REMOTE_ADDR="10.0.0.5")
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong password"})
    # allauth's own per-account limit refuses the next attempt at once...
    response = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # ...and when its 5-minute window has passed, the lockout still holds until the operator acts.
    cache.clear()
    response = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "Account locked" in response.content.decode()
    assert (
        AuditEvent.objects.filter(action="auth.login_failed", actor_email=user.email).count() >= 5
    )

    user_unlock(user=user, by=StaffUserFactory())
    response = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302  # on to the next step (email login accepted)


def test_idle_session_expires_after_the_timeout(settings):
    membership = MembershipFactory()
    client_totp_activate(membership.user)
    client = Client()
    client.force_login(membership.user)
    assert client.get("/app/").status_code == 200
    with time_machine.travel(
        timezone.now() + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    ):
        response = client.get("/app/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_activity_within_the_timeout_keeps_the_session_alive(settings):
    membership = MembershipFactory()
    client_totp_activate(membership.user)
    client = Client()
    client.force_login(membership.user)
    start = timezone.now()
    for minutes in (20, 40, 60):  # each request within 30 min of the previous one
        with time_machine.travel(start + timezone.timedelta(minutes=minutes)):
            assert client.get("/app/").status_code == 200


def test_the_dashboards_own_refreshes_do_not_keep_an_idle_session_alive(settings):
    """Fragment refreshes (sent with X-Requested-With: fetch by live.js) every few minutes do not
    move the idle timeout: 30 minutes after the person's last request the session is over."""
    membership = MembershipFactory()
    client_totp_activate(membership.user)
    client = Client()
    client.force_login(membership.user)
    start = timezone.now()
    assert client.get("/app/").status_code == 200

    refreshes = []
    for minutes in (10, 20, 29):
        with time_machine.travel(start + timezone.timedelta(minutes=minutes)):
            refreshes.append(
                client.get("/app/live/", headers={"X-Requested-With": "fetch"}).status_code
            )
    with time_machine.travel(start + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        after = client.get("/app/")

    assert refreshes == [200, 200, 200]
    assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")


def test_a_totp_secret_copied_into_another_users_row_does_not_open():
    """Sealed with associated data bound to its user: moved to another user's authenticator it
    fails to decrypt, so a database write cannot hand one person's second factor to another."""
    from accounts.mfa import client_totp_secret
    from tradingsvc.lib.crypto import DecryptionError

    victim, attacker = MembershipFactory(), MembershipFactory()
    victim_secret = client_totp_activate(victim.user)
    client_totp_activate(attacker.user)
    stolen = Authenticator.objects.get(user=victim.user, type=Authenticator.Type.TOTP).data

    Authenticator.objects.filter(user=attacker.user, type=Authenticator.Type.TOTP).update(
        data=stolen
    )

    assert client_totp_secret(victim.user) == victim_secret  # the owner's own row still opens
    with pytest.raises(DecryptionError):
        client_totp_secret(attacker.user)
