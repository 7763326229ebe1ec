"""A key connected through the real pages, password confirmation included, leaves its secret in no
table (session rows decoded), Redis key (Celery messages unwrapped), email or log line; expired
sessions are purged on a schedule.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from exchange.models import ExchangeConnection
from exchange.tasks import validate_exchange_keys
from tests.factories import client_with_2fa, login_with_2fa, reauthenticate
from tests.fixtures.secret_scan import find_planted

pytestmark = pytest.mark.django_db


def test_a_key_posted_before_the_password_is_confirmed_is_not_kept_in_the_session(
    simulator, settings, rendered_logs
):
    """The connect form posted without a fresh password is dropped, not stashed for a replay;
    once the password is confirmed the key connects and its secret is found nowhere at rest."""
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    _, api_key, api_secret = simulator.create_account(usdt="1000")
    owner = client_with_2fa()
    client = Client()
    login_with_2fa(client, owner)
    form = {"environment": "simulator", "api_key": api_key, "api_secret": api_secret}

    asked = client.post("/app/keys/connect/", form)
    leaks_while_asked = find_planted([api_secret], rendered_logs.getvalue())
    reauthenticate(client)
    connected = client.post("/app/keys/connect/", form)
    validate_exchange_keys.delay()  # a Celery message about the key waits in Redis (no worker)

    assert asked.status_code == 302 and "/accounts/reauthenticate/" in asked["Location"]
    assert leaks_while_asked == []
    assert connected.status_code == 302
    assert ExchangeConnection.objects.get(tenant=owner.tenant).api_key_last4 == api_key[-4:]
    assert find_planted([api_secret], rendered_logs.getvalue()) == []


def test_the_keys_page_asks_for_the_password_before_showing_the_secret_field():
    """Without a fresh password the page offers the confirmation, not a form that would be dropped."""
    owner = client_with_2fa()
    client = Client()
    client.force_login(owner.user)

    before = client.get("/app/keys/").content.decode()
    reauthenticate(client)
    after = client.get("/app/keys/").content.decode()

    assert 'id="connect-key-form"' not in before and "/accounts/reauthenticate/?next=" in before
    assert 'id="connect-key-form"' in after


def test_expired_sessions_are_purged_by_a_scheduled_task():
    """The beat schedule runs the purge, and the purge deletes expired rows only."""
    from accounts.tasks import purge_expired_sessions

    client = Client()
    client.force_login(client_with_2fa().user)
    Session.objects.create(
        session_key="expired" * 4, session_data="x", expire_date=timezone.now() - timedelta(days=1)
    )

    purged = purge_expired_sessions()

    assert purged == 1
    assert Session.objects.count() == 1
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "accounts.purge_expired_sessions" in scheduled
