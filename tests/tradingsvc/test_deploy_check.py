"""``manage.py check --deploy`` is clean on the production profile, and that profile offers clients
no local simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.production import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "TRADINGSVC_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_on_the_production_profile():
    """Not even a warning: every deployment check Django and the libraries know passes."""
    done = _manage("check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_offers_clients_no_local_simulator():
    """The key form's environments in production are Bybit's own."""
    done = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.EXCHANGE_CLIENT_ENVIRONMENTS)",
    )

    assert done.returncode == 0, done.stderr
    assert "simulator" not in done.stdout and "mainnet" in done.stdout
