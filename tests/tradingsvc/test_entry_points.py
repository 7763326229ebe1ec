"""The ASGI, WSGI and Celery entry points refuse to start without an explicit settings module:
none falls back to the demo profile, whose SECRET_KEY and master keys are public."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ENTRY_POINTS = {
    "asgi": "import tradingsvc.asgi",
    "wsgi": "import tradingsvc.wsgi",
    "celery": "from tradingsvc.celery import app; print(app.conf.broker_url)",
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_an_entry_point_without_a_settings_module_does_not_start(name):
    """Started with DJANGO_SETTINGS_MODULE unset, it exits with an error naming the variable."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    result = subprocess.run(
        [sys.executable, "-c", ENTRY_POINTS[name]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0, result.stdout
    assert "DJANGO_SETTINGS_MODULE" in result.stderr
