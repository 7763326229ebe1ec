"""The Docker build context leaves out environment files, keys, .git, var/ and test artifacts,
and the compose file takes secrets from a file outside it, at run time."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _excluded(path: str, rules: list[str]) -> bool:
    """Docker's rule: the last matching line wins; ``**`` spans folders; a folder's rule covers
    everything under it."""
    verdict = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for rule in rules:
        negated = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        variants = {pattern, pattern.removeprefix("**/")}
        for candidate in prefixes:
            if any(fnmatch.fnmatchcase(candidate, v) for v in variants) or any(
                fnmatch.fnmatchcase(candidate.split("/")[-1], v.removeprefix("**/"))
                for v in variants
                if v.startswith("**/") or pattern.startswith("**/")
            ):
                verdict = not negated
    return verdict


@pytest.fixture(scope="module")
def rules() -> list[str]:
    text = (ROOT / ".dockerignore").read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "docker/.env",
        "docker/prod.env",
        "ops/.env.production",
        ".git/config",
        "var/demo/master.keys",
        "var/demo/tradingsvc.sqlite3",
        "test-artifacts/shot.png",
        "tests/accounts/test_webhooks.py",
        ".venv/bin/python",
        "accounts/__pycache__/x.pyc",
    ],
)
def test_secrets_and_local_files_stay_out_of_the_build_context(rules, path):
    """Each would carry a secret or local state into the image."""
    assert _excluded(path, rules), f"{path} would be copied into the image"


@pytest.mark.parametrize(
    "path", ["manage.py", "accounts/models/users.py", "docker/env.example", "uv.lock"]
)
def test_the_code_is_still_in_the_build_context(rules, path):
    """The image still gets what it runs."""
    assert not _excluded(path, rules)


def test_compose_reads_secrets_at_run_time_from_outside_the_build_context():
    """No env file inside the repository: the operator keeps it elsewhere and compose reads it."""
    compose = (ROOT / "docker" / "compose.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    production = readme[readme.index("## Production with Docker") :]

    assert "env_file: .env" not in compose and "TRADINGSVC_ENV_FILE" in compose
    assert "docker/.env" not in production and "--env-file" in production
