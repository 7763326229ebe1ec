"""Alerts reach the tenant by email and by a signed webhook (a local receiver), once per channel.

SMTP delivery cannot exist here, so email uses Django's in-memory outbox; the webhook is real HTTP
to an HTTPS server the test runs on loopback (tests/fixtures/webhook_receiver.py).
"""

from __future__ import annotations

import json

import pytest
from django.core import mail

from bots.models import Alert, NotificationSettings
from bots.services.alerts import alert_raise
from bots.services.notify import alert_deliver, notification_settings_save
from tests.factories import MembershipFactory, client_with_2fa
from tradingsvc.lib.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec-planted-0123456789"


def test_alert_is_emailed_to_members_and_posted_signed_once(https_receiver):
    owner = client_with_2fa()
    viewer = MembershipFactory(tenant=owner.tenant, role="viewer")
    config = notification_settings_save(
        tenant_id=owner.tenant_id,
        email_enabled=True,
        webhook_url=f"{https_receiver.url}/hook",
        webhook_secret=WEBHOOK_SECRET,
    )
    assert WEBHOOK_SECRET not in config.webhook_secret_sealed
    alert = alert_raise(
        tenant_id=owner.tenant_id,
        kind="position.unintended",
        message="A BTCUSDT position no bot holds.",
    )

    assert alert_deliver(alert=alert) == {"email": True, "webhook": True}
    (message,) = mail.outbox
    assert set(message.to) == {owner.user.email, viewer.user.email}
    assert "A BTCUSDT position no bot holds." in message.body
    (received,) = https_receiver.received
    body, timestamp = received.body, int(received.headers["X-Tradingsvc-Timestamp"])
    assert received.headers["X-Tradingsvc-Signature"] == webhook_signature(
        WEBHOOK_SECRET, timestamp, body
    )
    assert json.loads(body)["id"] == alert.pk and WEBHOOK_SECRET not in body.decode()

    alert.refresh_from_db()
    assert alert_deliver(alert=alert) == {
        "email": False,
        "webhook": False,
    }  # a retried task sends nothing twice
    assert len(mail.outbox) == 1 and len(https_receiver.received) == 1


def test_open_alert_with_the_same_key_is_not_duplicated():
    owner = client_with_2fa()
    first = alert_raise(tenant_id=owner.tenant_id, kind="k", message="m", dedupe_key="same")
    assert first is not None
    assert alert_raise(tenant_id=owner.tenant_id, kind="k", message="m", dedupe_key="same") is None
    assert Alert.objects.count() == 1
    assert not NotificationSettings.objects.exists()  # defaults: email on, no webhook


def test_an_operator_alert_reaches_the_staff_mailbox_and_the_operator_webhook_once(
    https_receiver, settings
):
    """An alert with no tenant is mailed to every active staff user and posted, signed, to the
    operator webhook with its severity; a retried delivery sends nothing again."""
    from bots.tasks import deliver_alert
    from tests.factories import StaffUserFactory, UserFactory

    staff = StaffUserFactory(email="ops@example.test")
    StaffUserFactory(email="gone@example.test", is_active=False)
    UserFactory(email="client@example.test")
    settings.OPERATOR_ALERT_WEBHOOK_URL = f"{https_receiver.url}/ops"
    settings.OPERATOR_ALERT_WEBHOOK_SECRET = WEBHOOK_SECRET
    alert = alert_raise(
        tenant_id=None,
        kind="connectivity.streams",
        severity="critical",
        message="Exchange streams shard 1 has not reported for over 5 minutes.",
    )
    assert alert is not None

    first = deliver_alert(alert.pk)
    again = deliver_alert(alert.pk)

    assert first["operator"] is True and again["operator"] is False
    (message,) = mail.outbox
    assert message.to == [staff.email] and "Critical" in message.subject
    (received,) = https_receiver.received
    timestamp = int(received.headers[TIMESTAMP_HEADER])
    assert received.headers[SIGNATURE_HEADER] == webhook_signature(
        WEBHOOK_SECRET, timestamp, received.body
    )
    assert json.loads(received.body)["severity"] == "critical"
