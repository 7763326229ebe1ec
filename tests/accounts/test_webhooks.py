"""Webhooks never reach our own network: refused at save and at every send (loopback, private,
link-local, shared, multicast, reserved, a host name resolving to 127.0.0.1, a redirect to one),
https only; signed with a timestamp; a failing endpoint is retried with backoff and every attempt is
shown to the client.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import WebhookAttempt
from accounts.services.webhooks import WEBHOOK_MAX_ATTEMPTS, webhook_retry_delay
from bots.models import NotificationSettings
from bots.services.alerts import alert_raise
from bots.services.notify import WebhookRefused, alert_deliver, notification_settings_save
from tests.factories import client_with_2fa, reauthenticate
from tradingsvc.lib.redis import get_redis
from tradingsvc.lib.webhooks import webhook_signature

pytestmark = pytest.mark.django_db
SECRET = "whsec-test-0123456789abcdef"

REFUSED_URLS = [
    "https://127.0.0.1/hook",  # loopback
    "https://127.8.9.10/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # loopback, IPv4-mapped
    "https://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "https://[fe80::1]/hook",
    "https://10.0.0.5/hook",  # private
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://[fc00::1]/hook",
    "https://100.64.0.1/hook",  # shared (CGNAT)
    "https://224.0.0.1/hook",  # multicast
    "https://[ff02::1]/hook",
    "https://240.0.0.1/hook",  # reserved
    "https://0.0.0.0/hook",  # unspecified
    "https://localhost/hook",  # a host name resolving to 127.0.0.1
    "ftp://93.184.215.14/hook",  # not https
    "HTTP://93.184.215.14/hook",  # not https, in capitals
    "https://user:pw@93.184.215.14/hook",
]


def _owner_page_client(owner) -> Client:
    client = Client()
    client.force_login(owner.user)  # the real sign-in is tested elsewhere (and rate limited)
    reauthenticate(client)
    return client


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_an_internal_or_non_https_address_is_refused_at_save(url):
    """The settings page says what to change and saves nothing; the service refuses it too."""
    owner = client_with_2fa()
    client = _owner_page_client(owner)

    response = client.post(
        reverse("portal:notifications_save"), {"webhook_url": url, "webhook_secret": SECRET}
    )

    assert response.status_code == 400
    assert not NotificationSettings.objects.filter(tenant=owner.tenant).exclude(webhook_url="")
    with pytest.raises(WebhookRefused):
        notification_settings_save(
            tenant_id=owner.tenant.pk, email_enabled=True, webhook_url=url, webhook_secret=SECRET
        )


def test_a_public_https_address_in_capitals_is_accepted():
    """The scheme is compared after parsing: HTTPS:// is https."""
    owner = client_with_2fa()

    saved = notification_settings_save(
        tenant_id=owner.tenant.pk,
        email_enabled=True,
        webhook_url="HTTPS://93.184.215.14/hook",
        webhook_secret=SECRET,
    )

    assert saved.webhook_url == "HTTPS://93.184.215.14/hook"


def _configure(owner, url: str) -> None:
    """The settings row as if the URL had passed at save and its DNS changed since (rebinding)."""
    notification_settings_save(
        tenant_id=owner.tenant.pk, email_enabled=False, webhook_url="", webhook_secret=SECRET
    )
    NotificationSettings.objects.filter(tenant=owner.tenant).update(webhook_url=url)


def test_a_host_name_resolving_to_loopback_is_refused_at_send(https_receivers, settings):
    """A receiver really listens on 127.0.0.1 with a trusted certificate; "localhost" still gets
    nothing, the attempt is recorded as refused and not retried."""
    receiver, _, ca_file = https_receivers
    settings.WEBHOOK_CA_BUNDLE = str(ca_file)
    owner = client_with_2fa()
    _configure(owner, f"https://localhost:{receiver.server_address[1]}/hook")
    alert = alert_raise(tenant_id=owner.tenant_id, kind="k", message="An alert.")
    assert alert is not None

    sent = alert_deliver(alert=alert)

    assert sent["webhook"] is False and receiver.received == []
    attempt = WebhookAttempt.objects.get(tenant=owner.tenant)
    assert attempt.outcome == "refused_address" and attempt.next_attempt_at is None


def test_a_redirect_to_loopback_is_not_followed(https_receivers, settings):
    """The first endpoint answers 307 to a second one; the second receives nothing."""
    first, second, ca_file = https_receivers
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the first endpoint must be reachable
    settings.WEBHOOK_CA_BUNDLE = str(ca_file)
    first.statuses = [307]
    first.redirect_to = f"{second.url}/internal"
    owner = client_with_2fa()
    _configure(owner, f"{first.url}/hook")
    alert = alert_raise(tenant_id=owner.tenant_id, kind="k", message="An alert.")
    assert alert is not None

    sent = alert_deliver(alert=alert)

    assert sent["webhook"] is False
    assert len(first.received) == 1 and second.received == []
    attempt = WebhookAttempt.objects.get(tenant=owner.tenant)
    assert attempt.outcome == "redirect_refused" and attempt.status_code == 307


def _queued_retries() -> list[dict]:
    """The ``bots.deliver_alert`` messages waiting in the Celery queue (no worker runs here)."""
    out = []
    for raw in get_redis().lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "bots.deliver_alert":
            out.append(
                {**message["headers"], "args": json.loads(base64.b64decode(message["body"]))}
            )
    return out


def test_a_failing_endpoint_is_retried_with_backoff_and_the_client_sees_each_attempt(
    https_receiver,
):
    """500, then 503, then 204: three attempts, a retry queued after each failure with a growing
    delay, the signature over timestamp and body, and the three rows on the client's page."""
    https_receiver.statuses = [500, 503]
    owner = client_with_2fa()
    _configure(owner, f"{https_receiver.url}/hook")
    alert = alert_raise(tenant_id=owner.tenant_id, kind="k", message="An alert.")
    assert alert is not None
    get_redis().delete("celery")

    results = [alert_deliver(alert=alert)["webhook"] for _ in range(3)]  # as each retry would

    assert results == [False, False, True]
    attempts = list(WebhookAttempt.objects.filter(tenant=owner.tenant).order_by("attempt"))
    assert [(a.attempt, a.outcome, a.status_code) for a in attempts] == [
        (1, "http_error", 500),
        (2, "http_error", 503),
        (3, "delivered", 204),
    ]
    assert attempts[0].next_attempt_at and attempts[1].next_attempt_at
    assert attempts[2].next_attempt_at is None
    retries = _queued_retries()
    assert [r["args"][0] for r in retries] == [[alert.pk], [alert.pk]]
    assert all(r["eta"] for r in retries)
    assert webhook_retry_delay(1) < webhook_retry_delay(2) < webhook_retry_delay(3)
    assert webhook_retry_delay(WEBHOOK_MAX_ATTEMPTS) is None
    last = https_receiver.received[-1]
    timestamp = int(last.headers["X-Tradingsvc-Timestamp"])
    assert last.headers["X-Tradingsvc-Signature"] == webhook_signature(SECRET, timestamp, last.body)
    assert webhook_signature(SECRET, timestamp + 1, last.body) != webhook_signature(
        SECRET, timestamp, last.body
    )  # the timestamp is signed: an old call cannot be replayed with a new time
    page = Client()
    page.force_login(owner.user)
    html = page.get(reverse("portal:notifications")).content.decode()
    assert html.count('class="webhook-attempt"') == 3 and "HTTP 503" in html


def test_changing_the_webhook_needs_a_fresh_password():
    """Where alerts go is sensitive: without a recent password the change is dropped."""
    owner = client_with_2fa()
    client = Client()
    client.force_login(owner.user)

    response = client.post(
        reverse("portal:notifications_save"),
        {"webhook_url": "https://93.184.215.14/hook", "webhook_secret": SECRET},
    )

    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not NotificationSettings.objects.filter(tenant=owner.tenant).exclude(webhook_url="")
