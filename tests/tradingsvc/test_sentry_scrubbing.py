"""Sentry events leave with every secret scrubbed (sent for real to ``tests.fixtures.sentry_ingest``)."""

from __future__ import annotations

import sentry_sdk

from tradingsvc.lib.secret import Secret

PLANTED = "PLANTED-sentry-secret-1a2b3c4d"
MASTER = "PLANTED-master-key-5e6f7a8b9c"


def _place_order(credentials: dict[str, Secret], config: dict) -> None:
    api_key = credentials["api_key"].reveal()
    api_secret = credentials["api_secret"].reveal()
    bybit_secret = api_secret  # noqa: F841 - a local named so that Sentry's own scrubber misses it
    headers = {"X-BAPI-API-KEY": api_key, "X-BAPI-SIGN": "deadbeef" * 8}  # noqa: F841
    raise PermissionError(f"order refused for key {api_key} (secret {api_secret})")


def test_planted_secrets_never_reach_a_sentry_event(sentry_ingest):
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

    body = b"".join(sentry_ingest.bodies).decode("utf-8", errors="replace")
    assert "PermissionError" in body, "the event must actually have been sent"
    assert "_place_order" in body, "frames (with their locals) must be in the event"
    assert "breadcrumb with [redacted] inside" in body
    assert PLANTED not in body
    assert MASTER not in body
    assert "APIKEY-planted-0001" not in body
