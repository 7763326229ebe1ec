"""Sentry events leave with every secret scrubbed.

Sentry's servers cannot be reached here, so a local HTTP server stands in for its ingest endpoint:
the real SDK and its real HTTP transport send the real envelope, and the test reads the bytes.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from tradingsvc.lib.secret import Secret
from tradingsvc.sentry import init_sentry

PLANTED = "PLANTED-sentry-secret-1a2b3c4d"
MASTER = "PLANTED-master-key-5e6f7a8b9c"


class IngestServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), IngestHandler)
        self.bodies: list[bytes] = []


class IngestHandler(BaseHTTPRequestHandler):
    server: IngestServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            raw = brotli.decompress(raw)
        self.server.bodies.append(raw)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ingest():
    server = IngestServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    init_sentry(
        dsn=f"http://publickey@127.0.0.1:{server.server_address[1]}/1",
        environment="test",
    )
    try:
        yield server
    finally:
        sentry_sdk.init()  # no DSN: disabled again for the other tests
        server.shutdown()


def _place_order(credentials: dict[str, Secret], config: dict) -> None:
    api_key = credentials["api_key"].reveal()
    api_secret = credentials["api_secret"].reveal()
    bybit_secret = api_secret  # noqa: F841 - a local named so that Sentry's own scrubber misses it
    headers = {"X-BAPI-API-KEY": api_key, "X-BAPI-SIGN": "deadbeef" * 8}  # noqa: F841
    raise PermissionError(f"order refused for key {api_key} (secret {api_secret})")


def test_planted_secrets_never_reach_a_sentry_event(ingest):
    """Locals, exception text, breadcrumbs and extra data all arrive scrubbed."""
    import logging

    # As the keyring and the credential store do when they load or decrypt:
    master = Secret(MASTER)
    credentials = {"api_key": Secret("APIKEY-planted-0001"), "api_secret": Secret(PLANTED)}

    logging.getLogger("probe").warning("breadcrumb with %s inside", PLANTED)
    sentry_sdk.set_extra("settings", {"TRADINGSVC_MASTER_KEYS": MASTER, "note": f"key={MASTER}"})
    try:
        _place_order(credentials, {"encryption_key": master.reveal()})
    except PermissionError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush(timeout=10)

    body = b"".join(ingest.bodies).decode("utf-8", errors="replace")
    assert "PermissionError" in body, "the event must actually have been sent"
    assert "_place_order" in body, "frames (with their locals) must be in the event"
    assert "breadcrumb with [redacted] inside" in body
    assert PLANTED not in body
    assert MASTER not in body
    assert "APIKEY-planted-0001" not in body
