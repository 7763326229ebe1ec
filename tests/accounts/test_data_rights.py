"""An owner downloads everything held on the tenant; erasure removes keys and personal data."""

from __future__ import annotations

import csv
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


def _row_of_every_kind(owner) -> None:
    """One row of each kind a tenant owns: bot, order, fill, position, equity, alert, kill switch,
    notification settings, webhook attempt."""
    from accounts.models import WebhookAttempt
    from bots.models import Alert, BotPosition, KillSwitch, RiskTemplate
    from bots.services.notify import notification_settings_save
    from bots.services.tuning import bot_create
    from demo.perf_data import seed_history

    bot = bot_create(
        tenant=owner.tenant,
        template=RiskTemplate.objects.get(slug="moderate"),
        name='=HYPERLINK("http://evil.example")',
        symbol="BTCUSDT",
        connection=None,
        by=owner.user,
    ).bot
    seed_history(bot=bot, orders=4, days=1)
    BotPosition.objects.get_or_create(bot=bot, symbol="BTCUSDT")
    Alert.objects.create(tenant=owner.tenant, bot=bot, kind="test", message="An alert")
    KillSwitch.objects.create(scope=KillSwitch.Scope.TENANT, tenant=owner.tenant, reason="test")
    notification_settings_save(
        tenant_id=owner.tenant.pk,
        email_enabled=True,
        webhook_url="",
        webhook_secret="whsec-export-0123456789",
    )
    WebhookAttempt.objects.create(
        tenant=owner.tenant,
        event="alert:1",
        attempt=1,
        url="https://93.184.215.14/h",
        outcome="delivered",
    )


def test_the_export_holds_every_kind_of_row_the_tenant_owns(tenant_with_data):
    """Every model that belongs to a tenant (directly or through a bot) has its file with the
    tenant's rows; no sealed value or token; CSV cells that would run as formulas are defused."""
    from accounts.services.data_rights import tenant_owned_models

    owner = tenant_with_data
    _row_of_every_kind(owner)

    archive = zipfile.ZipFile(io.BytesIO(tenant_export_zip(tenant=owner.tenant, by=owner.user)))

    names = set(archive.namelist())
    expected = {
        "bots_bot",
        "bots_orderintent",
        "bots_botfill",
        "bots_botposition",
        "bots_equitysnapshot",
        "bots_alert",
        "bots_killswitch",
        "bots_notificationsettings",
        "accounts_webhookattempt",
    }
    owned = {f"{m._meta.app_label}_{m._meta.model_name}" for m, _ in tenant_owned_models()}
    assert expected <= owned
    empty = [n for n in sorted(expected) if not json.loads(archive.read(f"{n}.json"))]
    assert empty == [] and all(f"{n}.csv" in names for n in owned)
    everything = b"".join(archive.read(n) for n in names).decode()
    assert "v1:" not in everything and "whsec-export" not in everything
    bots_csv = archive.read("bots_bot.csv").decode()
    assert "'=HYPERLINK" in bots_csv
    assert not any(
        cell.startswith("=") for row in csv.reader(io.StringIO(bots_csv)) for cell in row
    )


def test_erasure_leaves_no_address_or_name_of_the_client_in_any_table(tenant_with_data):
    """After erasure, no column of any table (sessions decoded) holds the owner's address, a
    viewer's address or name, an invitee's address or the tenant's name."""
    from django.test import Client as BrowserClient

    from accounts.services.invitations import invitation_create_viewer
    from tests.fixtures.secret_scan import database_text

    owner = tenant_with_data
    owner.user.first_name, owner.user.last_name = "Olivia", "Ownerson"
    owner.user.save()
    viewer = client_with_2fa("viewer", tenant=owner.tenant, email="viewer-person@example.test")
    invitation_create_viewer(
        tenant=owner.tenant, email="invitee-person@example.test", invited_by=owner.user
    )
    _row_of_every_kind(owner)
    for attempt in range(2):  # failed sign-ins are logged with the address tried
        BrowserClient(REMOTE_ADDR=f"203.0.113.{attempt}").post(
            "/accounts/login/", {"login": owner.user.email, "password": "wrong"}
        )
    signed_in = BrowserClient()
    signed_in.force_login(viewer.user)
    signed_in.get("/app/")
    tenant_name = owner.tenant.name
    tenant_deletion_request(tenant=owner.tenant, by=owner.user)

    tenant_erase(tenant=owner.tenant, by=StaffUserFactory())

    tables = database_text()
    identities = [
        owner.user.email,
        "Olivia",
        "Ownerson",
        viewer.user.email,
        "invitee-person@example.test",
        tenant_name,
    ]
    leaks = {
        (value, table) for value in identities for table, text in tables.items() if value in text
    }
    assert leaks == set()
