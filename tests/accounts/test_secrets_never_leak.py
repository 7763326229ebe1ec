"""A planted API secret and master key never reach a response, page, admin page, log line, exception
text, Sentry event, audit row or data export.

The key pair comes from the running simulator and is connected through the real flow; the master
key is a planted keyring entry. Then every client page and every admin page is rendered, the key
is validated (successfully and unsuccessfully), an error is sent to Sentry, and the export is
built, while every log record is rendered through the project's real formatter.
"""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
import sentry_sdk
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.services.data_rights import tenant_export_zip
from bots.services.notify import notification_settings_save
from exchange.credentials import credentials_seal
from exchange.services.keys import KeyRefused, exchange_key_connect, exchange_key_validate
from tests.factories import admin_login, client_with_2fa, operator_with_otp
from tests.fixtures.routes import client_urls
from tests.fixtures.secret_scan import find_planted

pytestmark = pytest.mark.django_db
PLANTED_MASTER = base64.b64encode(b"PLANTED-master-key-32-bytes-long").decode()


def test_planted_secrets_appear_nowhere(simulator, settings, rendered_logs, sentry_ingest):
    settings.TRADINGSVC_MASTER_KEYS = f"planted:{PLANTED_MASTER}"
    settings.EXCHANGE_REST_URLS = {**settings.EXCHANGE_REST_URLS, "simulator": simulator.base_url}
    _, api_key, api_secret = simulator.create_account(usdt="1000")
    owner = client_with_2fa()
    connection = exchange_key_connect(
        tenant=owner.tenant,
        environment="simulator",
        api_key=api_key,
        api_secret=api_secret,
        by=owner.user,
    )
    webhook_secret = "planted-webhook-secret-7f3a9c"
    notification_settings_save(
        tenant_id=owner.tenant.pk,
        email_enabled=True,
        webhook_url="https://93.184.215.14/a",
        webhook_secret=webhook_secret,
    )
    planted = [api_secret, api_key, PLANTED_MASTER, webhook_secret]
    seen: list[str] = []

    # Every client page, as the owner.
    client = Client()
    client.force_login(owner.user)
    for name, pattern in client_urls():
        if not pattern.pattern.converters:
            response = client.get(reverse(name))
            body = (
                b"".join(response.streaming_content)  # CSV downloads stream
                if response.streaming
                else response.content
            )
            seen.append(body.decode())
            seen.append(str(response.headers))

    # Every admin changelist and the connection's change page, as the operator.
    # A superuser: every registered model's changelist must open.
    staff = Client()
    admin_login(staff, *operator_with_otp())
    admin_urls = [reverse("admin:index")]
    for model in admin.site._registry:
        admin_urls.append(
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        )
    admin_urls.append(reverse("admin:exchange_exchangeconnection_change", args=[connection.pk]))
    for url in admin_urls:
        response = staff.get(url)
        assert response.status_code == 200, url
        seen.append(response.content.decode())

    # A failed validation (the secret regenerated on Bybit) and its exception text.
    credentials_seal(connection, api_key=api_key, api_secret=api_secret[::-1])
    seen.append(exchange_key_validate(connection=connection).last_error)
    with pytest.raises(KeyRefused) as refused:
        exchange_key_connect(
            tenant=owner.tenant,
            environment="simulator",
            api_key=api_key,
            api_secret=api_secret[::-1],
            by=owner.user,
        )
    seen.append(str(refused.value))

    # An error with the secret in a local, sent to Sentry.
    try:
        bybit_secret = api_secret  # noqa: F841
        raise RuntimeError(f"signing failed with {api_secret}")
    except RuntimeError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush(timeout=10)
    assert sentry_ingest.bodies, "the Sentry event must have been sent"
    seen.extend(body.decode(errors="replace") for body in sentry_ingest.bodies)

    # Audit rows and the data export.
    seen.extend(f"{e.before} {e.after} {e.target_repr}" for e in AuditEvent.objects.all())
    archive = zipfile.ZipFile(io.BytesIO(tenant_export_zip(tenant=owner.tenant, by=owner.user)))
    seen.extend(archive.read(name).decode() for name in archive.namelist())

    # And every log line written meanwhile.
    logs = rendered_logs.getvalue()
    assert logs, "log lines must have been written"
    seen.append(logs)

    everything = "\n".join(seen)
    assert "…" + api_key[-4:] in everything  # the last four characters are what people see
    for value in planted:
        assert value not in everything
    # Nor at rest: every table (sessions decoded), every Redis key, every email.
    assert find_planted(planted, logs) == []
