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


def _sealed_values_in_database() -> dict[tuple[str, str], list[str]]:
    """Every sealed value stored anywhere, found by its format (in text and JSON columns of
    every table), by (table, column)."""
    import json

    from django.db import connection

    found: dict[tuple[str, str], list[str]] = {}

    def visit(where: tuple[str, str], value: object) -> None:
        if isinstance(value, str) and value.startswith("v1:"):
            found.setdefault(where, []).append(value)
        elif isinstance(value, dict):
            for inner in value.values():
                visit(where, inner)
        elif isinstance(value, list):
            for inner in value:
                visit(where, inner)

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            for (row,) in cursor.fetchall():
                for column, value in json.loads(row).items():  # JSON columns come nested
                    visit((table, column), value)
    return found


def test_every_sealed_value_in_the_database_is_registered_and_rotated(settings, capsys):
    """Plant one sealed value of every kind the app stores, find every sealed value in the
    database by its format, check each column is in the one registry, rotate, and check every
    one moved to the new key."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from accounts.services.master_keys import SEALED_FIELDS
    from bots.services.notify import notification_settings_save

    member = client_with_2fa()
    RecoveryCodes.activate(member.user)
    operator_with_otp()
    _connection(member.tenant)
    notification_settings_save(
        tenant_id=member.tenant.pk,
        email_enabled=True,
        webhook_url="",
        webhook_secret="whsec-rotate-0123456789",
    )
    registered = {
        (f.model_class()._meta.db_table, f.model_class()._meta.get_field(f.column).column)
        for f in SEALED_FIELDS
    }

    before = _sealed_values_in_database()
    new_entry = generate_master_key_entry("test2")
    settings.TRADINGSVC_MASTER_KEYS = f"{new_entry},{settings.TRADINGSVC_MASTER_KEYS}"
    call_command("rewrap_secrets")
    after = _sealed_values_in_database()

    assert len(before) >= 5  # exchange key and secret, operator TOTP, client TOTP, webhook
    assert set(before) - registered == set(), "sealed columns the rotation does not walk"
    on_old_key = {
        where: [v for v in values if sealed_key_id(v) != "test2"] for where, values in after.items()
    }
    assert {where: v for where, v in on_old_key.items() if v} == {}
    assert "every value is on 'test2'" in capsys.readouterr().out
