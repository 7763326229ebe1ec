"""Outgoing webhooks that cannot be pointed at our own network.

A client chooses the URL, so the URL is attacker-controlled: without care, "https://169.254.169.254"
reads the cloud metadata service, "https://10.0.0.5" the database host, and a public host that
answers with a redirect, or whose DNS answer changes between our check and our connection (DNS
rebinding), gets there all the same. Therefore, on every attempt:

1. the scheme must be ``https`` (compared after parsing, so ``HTTPS://`` is https and
   ``HTTP://`` is not);
2. the host is resolved here, and every address it resolves to must be a public unicast one: no
   loopback, private, link-local, shared (CGNAT), multicast, reserved or unspecified address, in
   IPv4 or IPv6 (IPv4-mapped IPv6 included); ``WEBHOOK_ALLOWED_NETWORKS`` names exceptions;
3. the connection goes to the address that was checked (the TLS certificate is still checked
   against the host name), so a second DNS answer is never used;
4. redirects are not followed: a 3xx is a failed attempt.

The body is signed with the receiver's secret over ``<timestamp>.<body>``; the timestamp travels
in ``X-Tradingsvc-Timestamp`` so a receiver can refuse old (replayed) calls.

This module knows no Django model; ``webhook_send`` is the one sender every caller uses.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

SIGNATURE_HEADER = "X-Tradingsvc-Signature"
TIMESTAMP_HEADER = "X-Tradingsvc-Timestamp"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(Exception):
    """The URL may not be called; ``code`` says why (shown to the client, rendered late)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WebhookTarget:
    """A checked URL: the host name (for TLS and the Host header) and the address to dial."""

    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class WebhookResult:
    """One attempt: ``outcome`` is ``delivered`` or a failure code; ``status_code`` if answered."""

    outcome: str
    status_code: int | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n) for n in getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", [])]


def address_is_public(address: IPAddress) -> bool:
    """A public unicast address (``is_global`` excludes private, loopback, link-local, shared,
    reserved and unspecified ranges; multicast is excluded on its own)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def webhook_target(url: str) -> WebhookTarget:
    """Check a URL and resolve it; raises ``WebhookRefused`` with what to change."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 443
    except ValueError as exc:
        raise WebhookRefused("invalid", "This is not a valid address.") from exc
    if parts.scheme != "https":
        raise WebhookRefused("scheme", "Use an https:// address: alerts are private.")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookRefused("invalid", "Give a host name, without a user name or password.")
    host = parts.hostname
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefused("unresolved", "This host name does not resolve.") from exc
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    if not addresses or not all(address_is_public(a) for a in addresses):
        raise WebhookRefused(
            "address", "This address is on a private or reserved network: use a public one."
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return WebhookTarget(host=host, port=port, path=path, address=str(addresses[0]))


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` HMAC of ``<timestamp>.<body>`` with the receiver's secret."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_send(
    *, url: str, secret: str, payload: dict[str, Any], timeout: float = 5.0
) -> WebhookResult:
    """POST ``payload`` as signed JSON to ``url`` after checking it (on every call); never
    raises for a refusal or a network failure, which come back as the result's ``outcome``."""
    try:
        target = webhook_target(url)
    except WebhookRefused as exc:
        return WebhookResult(outcome=f"refused_{exc.code}")
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    timestamp = int(time.time())
    pool = urllib3.HTTPSConnectionPool(
        target.address,
        port=target.port,
        server_hostname=target.host,
        assert_hostname=target.host,
        ca_certs=getattr(settings, "WEBHOOK_CA_BUNDLE", None) or None,
        cert_reqs="CERT_REQUIRED",
        timeout=urllib3.Timeout(total=timeout),
        retries=False,
        maxsize=1,
    )
    host_header = target.host if target.port == 443 else f"{target.host}:{target.port}"
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": "tradingsvc-webhook/1",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: webhook_signature(secret, timestamp, body),
            },
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=True,
        )
    except urllib3.exceptions.TimeoutError:
        return WebhookResult(outcome="timeout")
    except urllib3.exceptions.SSLError:
        return WebhookResult(outcome="tls_error")
    except urllib3.exceptions.HTTPError:
        return WebhookResult(outcome="connection_error")
    finally:
        pool.close()
    if 200 <= response.status < 300:
        return WebhookResult(outcome="delivered", status_code=response.status)
    if 300 <= response.status < 400:
        return WebhookResult(outcome="redirect_refused", status_code=response.status)
    return WebhookResult(outcome="http_error", status_code=response.status)
