"""An owner downloads everything held on the tenant; erasure removes keys and personal data."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import AuditEvent, Membership
from accounts.services.audit import audit_record
from accounts.services.data_rights import tenant_deletion_request, tenant_erase, tenant_export_zip
from exchange.credentials import credentials_seal
from exchange.models import ExchangeConnection
from tests.factories import StaffUserFactory, client_with_2fa, reauthenticate

pytestmark = pytest.mark.django_db
KEY, SECRET = "EXPORTKEY000000000042", "EXPORTSECRET0000000000000042"


@pytest.fixture
def tenant_with_data():
    owner = client_with_2fa(email="owner@example.test")
    connection = ExchangeConnection.objects.create(
        tenant=owner.tenant, environment="simulator", label="main"
    )
    credentials_seal(connection, api_key=KEY, api_secret=SECRET)
    audit_record(
        action="key.added", actor=owner.user, tenant=owner.tenant, after={"api_secret": SECRET}
    )
    return owner


def test_export_holds_every_file_as_json_and_csv_and_no_secret(tenant_with_data):
    owner = tenant_with_data
    payload = tenant_export_zip(tenant=owner.tenant, by=owner.user)
    archive = zipfile.ZipFile(io.BytesIO(payload))
    names = set(archive.namelist())
    for name in ("members", "invitations", "exchange_keys", "audit_trail"):
        assert {f"{name}.json", f"{name}.csv"} <= names
    keys = json.loads(archive.read("exchange_keys.json"))
    assert keys[0]["key_last4"] == KEY[-4:] and keys[0]["label"] == "main"
    everything = b"".join(archive.read(n) for n in names).decode()
    assert "owner@example.test" in everything
    for secret in (KEY, SECRET, "v1:"):
        assert secret not in everything


def test_owner_downloads_the_zip_from_the_security_page(tenant_with_data):
    client = Client()
    client.force_login(tenant_with_data.user)
    reauthenticate(client)
    response = client.post("/app/data/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.content)).read("tenant.json")


def test_erasure_removes_keys_and_personal_data_and_keeps_an_anonymised_trail(tenant_with_data):
    owner = tenant_with_data
    operator = StaffUserFactory()
    signed_in = Client()
    signed_in.force_login(owner.user)
    session_key = signed_in.session.session_key
    assert (
        signed_in.get("/app/").status_code == 200
    )  # the session is tracked (allauth usersessions)
    tenant_deletion_request(tenant=owner.tenant, by=owner.user)
    tenant_erase(tenant=owner.tenant, by=operator)
    assert signed_in.get("/app/").status_code == 302  # signed out everywhere...
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()  # ...for good

    connection = ExchangeConnection.objects.get(tenant=owner.tenant)
    assert connection.api_key_sealed == "" and connection.api_secret_sealed == ""
    assert not Membership.objects.filter(tenant=owner.tenant).exists()
    user = get_user_model().objects.get(pk=owner.user.pk)
    assert (
        user.email.startswith("deleted-") and not user.is_active and not user.has_usable_password()
    )
    events = AuditEvent.objects.for_tenant(owner.tenant)
    assert events.filter(action="key.added").exists()  # the facts stay
    assert not events.filter(actor_email="owner@example.test").exists()  # the person does not
    assert events.filter(action="data.erased", actor_email=operator.email).exists()
    owner.tenant.refresh_from_db()
    assert owner.tenant.anonymised_at is not None and owner.tenant.status == "disabled"
