"""The production profile refuses to start without its secrets and passes Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.production import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "TRADINGSVC_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "TRADINGSVC_MASTER_KEYS",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing):
    """Each missing variable stops start-up with ImproperlyConfigured naming it."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    done = manage("check", env=env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert missing in done.stderr


def test_production_refuses_a_malformed_master_key():
    """A keyring entry that is not 32 bytes of base64 stops start-up, without echoing the key."""
    env = {**PRODUCTION_ENV, "TRADINGSVC_MASTER_KEYS": "prod1:c2hvcnQta2V5LXZhbHVl"}
    done = manage("check", env=env)
    assert done.returncode != 0
    assert "Master key 'prod1' must be 32 bytes" in done.stderr
    assert "c2hvcnQta2V5LXZhbHVl" not in done.stderr


def test_production_passes_the_deploy_checks():
    """With everything set: DEBUG off, secure cookies, HSTS, SSL redirect; no deploy warnings."""
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert done.returncode == 0, done.stdout + done.stderr
