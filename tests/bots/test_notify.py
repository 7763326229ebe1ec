"""Alerts reach the tenant by email and by a signed webhook (a local receiver), once per channel.

SMTP delivery cannot exist here, so email uses Django's in-memory outbox; the webhook is real HTTP
to a server the test runs on loopback.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from bots.models import Alert, NotificationSettings
from bots.services.alerts import alert_raise
from bots.services.notify import alert_deliver, notification_settings_save, webhook_signature
from tests.factories import MembershipFactory, client_with_2fa

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec-planted-0123456789"


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received: list[tuple[bytes, str]] = []


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((body, self.headers["X-Tradingsvc-Signature"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_alert_is_emailed_to_members_and_posted_signed_once(receiver):
    owner = client_with_2fa()
    viewer = MembershipFactory(tenant=owner.tenant, role="viewer")
    config = notification_settings_save(
        tenant_id=owner.tenant_id, email_enabled=True,
        webhook_url=f"http://127.0.0.1:{receiver.server_address[1]}/hook", webhook_secret=WEBHOOK_SECRET,
    )  # fmt: skip
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
    ((body, signature),) = receiver.received
    assert signature == webhook_signature(WEBHOOK_SECRET, body)
    assert json.loads(body)["id"] == alert.pk and WEBHOOK_SECRET not in body.decode()

    alert.refresh_from_db()
    assert alert_deliver(alert=alert) == {
        "email": False,
        "webhook": False,
    }  # a retried task sends nothing twice
    assert len(mail.outbox) == 1 and len(receiver.received) == 1


def test_open_alert_with_the_same_key_is_not_duplicated():
    owner = client_with_2fa()
    first = alert_raise(tenant_id=owner.tenant_id, kind="k", message="m", dedupe_key="same")
    assert first is not None
    assert alert_raise(tenant_id=owner.tenant_id, kind="k", message="m", dedupe_key="same") is None
    assert Alert.objects.count() == 1
    assert not NotificationSettings.objects.exists()  # defaults: email on, no webhook


def test_an_operator_alert_reaches_the_staff_mailbox_and_the_operator_webhook_once(
    receiver, settings
):
    """An alert with no tenant is mailed to every active staff user and posted, signed, to the
    operator webhook with its severity; a retried delivery sends nothing again."""
    from bots.tasks import deliver_alert
    from tests.factories import StaffUserFactory, UserFactory

    staff = StaffUserFactory(email="ops@example.test")
    StaffUserFactory(email="gone@example.test", is_active=False)
    UserFactory(email="client@example.test")
    settings.OPERATOR_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{receiver.server_address[1]}/ops"
    settings.OPERATOR_ALERT_WEBHOOK_SECRET = WEBHOOK_SECRET
    alert = alert_raise(
        tenant_id=None, kind="connectivity.streams", severity="critical",
        message="Exchange streams shard 1 has not reported for over 5 minutes.",
    )  # fmt: skip
    assert alert is not None

    first = deliver_alert(alert.pk)
    again = deliver_alert(alert.pk)

    assert first["operator"] is True and again["operator"] is False
    (message,) = mail.outbox
    assert message.to == [staff.email] and "Critical" in message.subject
    ((body, signature),) = receiver.received
    assert signature == webhook_signature(WEBHOOK_SECRET, body)
    assert json.loads(body)["severity"] == "critical"
