"""A planted secret never reaches a log line, however it is logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLANTED = "PLANTED-secret-9d8c7b6a5f4e"

SCRIPT = textwrap.dedent(
    f"""
    import logging, django
    django.setup()
    import structlog
    from tradingsvc.lib.secret import Secret

    planted = "{PLANTED}"
    secret = Secret(planted)  # what the gateway does after decrypting a key
    log = structlog.stdlib.get_logger("probe")
    log.info("structlog.kwarg", api_secret=planted, tenant_id="t-1", bot_id="b-2")
    log.info("structlog.nested", request={{"headers": {{"X-BAPI-SIGN": planted, "X-BAPI-API-KEY": planted}}}})
    log.info("structlog.secret_object", key=secret)
    logging.getLogger("probe.stdlib").warning("free text with the value %s inside", planted)
    logging.getLogger("probe.stdlib").warning("pair in text api_secret=%s", "other-secret-value-123")
    try:
        raise RuntimeError(f"exchange said no to {{planted}}")
    except RuntimeError:
        logging.getLogger("probe.exc").exception("traceback.with_secret")
    logging.getLogger("pybit._http_manager").debug("Request -> headers %s", {{"X-BAPI-API-KEY": planted}})
    """
)


def run_probe(extra_env: dict[str, str] | None = None) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tradingsvc.settings.test", **(extra_env or {})}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_planted_secret_never_reaches_a_log_line():
    """Every way of logging the secret (kwarg, nested header, object, free text, traceback) is masked."""
    output = run_probe()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    events = {line["event"] for line in lines}

    # The log lines were written (the test is not vacuous) ...
    assert {
        "structlog.kwarg",
        "structlog.nested",
        "structlog.secret_object",
        "traceback.with_secret",
    } <= events
    assert "free text with the value [redacted] inside" in events
    # ... one JSON object per line, carrying the bound ids ...
    kwarg_line = next(line for line in lines if line["event"] == "structlog.kwarg")
    assert (kwarg_line["tenant_id"], kwarg_line["bot_id"]) == ("t-1", "b-2")
    assert kwarg_line["api_secret"] == "[redacted]"
    # ... and the secret appears nowhere, not even in the traceback.
    assert "RuntimeError" in output
    assert PLANTED not in output
    assert "other-secret-value-123" not in output
