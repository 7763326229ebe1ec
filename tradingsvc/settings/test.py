"""The test profile: the local PostgreSQL and Redis, for real.

Tests talk to real services wherever behaviour depends on them; ``bin/test`` refuses to run when
either is missing instead of skipping. Redis database 15 is reserved for tests and flushed at the
start of a run.
"""

from tradingsvc.settings.base import *  # noqa: F403
from tradingsvc.settings.base import env, redis_backed_settings

SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-insecure-secret-key")
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/tradingsvc"),
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# TEST_DB_SUFFIX lets two runs on one machine (two developers, CI) keep separate test databases;
# give each its own REDIS_URL database too (the default, 15, is flushed at the start of a run).
DATABASES["default"]["TEST"] = {"NAME": "test_tradingsvc" + env("TEST_DB_SUFFIX", default="")}

vars().update(
    redis_backed_settings(env("REDIS_URL", default="redis://127.0.0.1:6379/15"), "tradingsvc-test")
)

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher"
]  # speed only; never in production.
WORKER_HEARTBEAT_INTERVAL_SECONDS = 0.5
WORKER_HEARTBEAT_TTL_SECONDS = 3.0

# Static files come from the finders here; no collected folder exists to serve.
STATIC_ROOT = None

# A fixed, public test keyring (two keys, so rotation is testable). Never used outside tests.
TRADINGSVC_MASTER_KEYS = env(
    "TRADINGSVC_MASTER_KEYS",
    default="test1:dGVzdC1tYXN0ZXIta2V5LTAxLTMyLWJ5dGVzLWxvbmc=",
)
