"""Stops the test run with a clear message when PostgreSQL or Redis does not answer.

Tests talk to the real services; a missing one must fail the run, never skip tests.
"""

from __future__ import annotations

import sys

import psycopg
import redis

from tradingsvc.settings import test as test_settings


def check_postgres() -> str | None:
    db = test_settings.DATABASES["default"]
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    try:
        psycopg.connect(
            dbname="postgres",
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            connect_timeout=3,
        ).close()
    except Exception as exc:
        return f"PostgreSQL is not answering at {where} ({type(exc).__name__}: {exc})."
    return None


def check_redis() -> str | None:
    url = test_settings.REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:
        return f"Redis is not answering at {url} ({type(exc).__name__}: {exc})."
    return None


def main() -> int:
    problems = [p for p in (check_postgres(), check_redis()) if p]
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)  # noqa: T201
    if problems:
        print(  # noqa: T201
            "The test suite needs PostgreSQL and Redis running locally (see README, 'The two commands').",
            file=sys.stderr,
        )
        return 1
    print("Services: PostgreSQL and Redis answer.")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
