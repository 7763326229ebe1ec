"""Connecting and validating Bybit keys, against the running simulator."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent
from exchange.credentials import credentials_open, credentials_seal
from exchange.models import ExchangeConnection
from exchange.services.keys import (
    KeyRefused,
    exchange_key_connect,
    exchange_key_replace,
    exchange_key_validate,
)
from tests.factories import client_with_2fa, login_with_2fa, reauthenticate

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(simulator, settings):
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    return simulator


@pytest.fixture
def owner():
    return client_with_2fa("owner")


def connect(owner, key, secret, environment="simulator"):
    return exchange_key_connect(
        tenant=owner.tenant, environment=environment, api_key=key, api_secret=secret, by=owner.user
    )


def test_good_key_is_validated_then_stored_sealed(sim, owner):
    uid, key, secret = sim.create_account(usdt="5000")
    connection = connect(owner, key, secret)

    assert connection.status == ExchangeConnection.Status.ACTIVE
    assert connection.exchange_uid == str(uid)
    assert connection.api_key_last4 == key[-4:]
    assert not connection.read_only and not connection.can_withdraw
    assert connection.permissions.get("ContractTrade")
    assert connection.last_validated_at is not None
    assert secret not in connection.api_secret_sealed and key not in connection.api_key_sealed
    creds = credentials_open(connection)
    assert (creds.api_key.reveal(), creds.api_secret.reveal()) == (key, secret)
    event = AuditEvent.objects.get(action="key.added")
    assert secret not in str(event.after) and key not in str(event.after)


def test_key_that_can_withdraw_is_refused_and_nothing_is_stored(sim, owner):
    _, key, secret = sim.create_account(withdraw=True)
    with pytest.raises(KeyRefused, match="can withdraw funds"):
        connect(owner, key, secret)
    assert not ExchangeConnection.objects.exists()


def test_read_only_key_is_refused(sim, owner):
    _, key, secret = sim.create_account(read_only=True)
    with pytest.raises(KeyRefused, match="read-only"):
        connect(owner, key, secret)


def test_wrong_secret_is_refused(sim, owner):
    _, key, secret = sim.create_account()
    with pytest.raises(KeyRefused, match="did not accept this API key"):
        connect(owner, key, secret[::-1])


def test_key_unknown_on_the_environment_suggests_checking_it(sim, owner):
    with pytest.raises(KeyRefused, match="Check the environment"):
        connect(owner, "UNKNOWNKEY1234567", "UNKNOWNSECRET1234567890")


def test_malformed_key_is_refused_before_asking_bybit(owner):
    with pytest.raises(KeyRefused, match="copy it again"):
        connect(owner, "short", "also short")


def test_daily_validation_marks_a_broken_key_invalid_with_the_reason(sim, owner):
    _, key, secret = sim.create_account()
    connection = connect(owner, key, secret)
    sim.restart()  # keys survive a restart: still valid
    assert exchange_key_validate(connection=connection).status == ExchangeConnection.Status.ACTIVE
    # The secret was regenerated on Bybit: the stored one no longer signs valid requests.
    credentials_seal(connection, api_key=key, api_secret="REGENERATEDSECRET0123456789")
    result = exchange_key_validate(connection=connection)
    assert result.status == ExchangeConnection.Status.INVALID
    assert "did not accept this API key" in result.last_error


def test_validation_during_an_outage_keeps_the_key_active(sim, owner):
    _, key, secret = sim.create_account()
    connection = connect(owner, key, secret)
    sim.fault("http_5xx", count=20)
    result = exchange_key_validate(connection=connection)
    assert result.status == ExchangeConnection.Status.ACTIVE
    assert "could not be checked right now" in result.last_error


def test_rotation_switches_to_the_new_key_and_retires_the_old_one(sim, owner):
    uid, key, secret = sim.create_account()
    old = connect(owner, key, secret)
    new_key = sim.admin("POST", f"/sim/accounts/{uid}/keys", {})
    new = connect(owner, new_key["api_key"], new_key["api_secret"])
    exchange_key_replace(old=old, new=new, by=owner.user)
    old.refresh_from_db()
    assert old.status == ExchangeConnection.Status.RETIRED
    assert old.api_key_sealed == "" and old.api_secret_sealed == ""
    assert new.status == ExchangeConnection.Status.ACTIVE
    assert AuditEvent.objects.filter(action="key.rotated").exists()


def test_rotation_to_another_bybit_account_is_refused(sim, owner):
    _, key1, secret1 = sim.create_account()
    _, key2, secret2 = sim.create_account()
    old, new = connect(owner, key1, secret1), connect(owner, key2, secret2)
    with pytest.raises(KeyRefused, match="another Bybit account"):
        exchange_key_replace(old=old, new=new, by=owner.user)


def test_connect_page_shows_the_refusal_and_keeps_the_key_but_not_the_secret(sim, owner):
    _, key, secret = sim.create_account(withdraw=True)
    client = Client()
    login_with_2fa(client, owner)
    reauthenticate(client)  # sensitive: allauth asks for the password again
    response = client.post(
        "/app/keys/connect/",
        {"environment": "simulator", "api_key": key, "api_secret": secret, "label": "main"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "can withdraw funds" in page
    assert f'value="{key}"' in page  # what was typed is kept...
    assert secret not in page  # ...except the secret, which is never sent back


def test_changing_keys_asks_for_reauthentication_after_a_while(sim, owner):
    """A session older than the reauthentication window must confirm the password again."""
    client = Client()
    client.force_login(owner.user)  # no recent authentication recorded
    response = client.post(
        "/app/keys/connect/", {"environment": "simulator", "api_key": "x", "api_secret": "y"}
    )
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/reauthenticate/"
    )
