"""Master-key rotation re-wraps every credential; a sealed value moved to another row fails."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.mfa import client_totp_secret
from exchange.credentials import credentials_open, credentials_seal
from exchange.models import ExchangeConnection
from tests.factories import client_with_2fa, operator_with_otp
from tradingsvc.lib.crypto import DecryptionError, generate_master_key_entry, sealed_key_id

pytestmark = pytest.mark.django_db
KEY, SECRET = "ROTATEKEY0000000001", "ROTATESECRET00000000000001"


def _connection(tenant) -> ExchangeConnection:
    connection = ExchangeConnection.objects.create(tenant=tenant, environment="simulator")
    credentials_seal(connection, api_key=KEY, api_secret=SECRET)
    return connection


def test_rotation_rewraps_every_secret_and_the_old_key_can_then_be_removed(settings, capsys):
    old_spec = settings.TRADINGSVC_MASTER_KEYS
    member = client_with_2fa()
    operator, operator_secret = operator_with_otp()
    connection = _connection(member.tenant)
    totp_before = client_totp_secret(member.user)
    assert sealed_key_id(connection.api_key_sealed) == "test1"

    new_entry = generate_master_key_entry("test2")
    settings.TRADINGSVC_MASTER_KEYS = (
        f"{new_entry},{old_spec}"  # new key first: it seals from now on
    )
    call_command("rewrap_secrets")
    out = capsys.readouterr().out
    assert "every value is on 'test2'" in out

    settings.TRADINGSVC_MASTER_KEYS = new_entry  # the old key is gone
    connection.refresh_from_db()
    assert sealed_key_id(connection.api_key_sealed) == "test2"
    creds = credentials_open(connection)
    assert (creds.api_key.reveal(), creds.api_secret.reveal()) == (KEY, SECRET)
    assert client_totp_secret(member.user) == totp_before
    from accounts.models import OperatorTOTPDevice

    assert OperatorTOTPDevice.objects.get(user=operator).base32_key() == operator_secret


def test_a_sealed_key_copied_to_another_tenants_row_fails_with_a_clear_error():
    mine, theirs = client_with_2fa(), client_with_2fa()
    source = _connection(mine.tenant)
    stolen = ExchangeConnection.objects.create(
        tenant=theirs.tenant,
        environment="simulator",
        api_key_sealed=source.api_key_sealed,
        api_secret_sealed=source.api_secret_sealed,
    )
    with pytest.raises(DecryptionError, match="does not belong here"):
        credentials_open(stolen)


def test_without_the_old_master_key_values_cannot_be_opened(settings):
    connection = _connection(client_with_2fa().tenant)
    settings.TRADINGSVC_MASTER_KEYS = generate_master_key_entry("other")
    with pytest.raises(DecryptionError, match="not in the keyring"):
        credentials_open(connection)
