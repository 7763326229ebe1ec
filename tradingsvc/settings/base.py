"""Settings shared by every profile.

Everything that varies between machines is read from the environment through django-environ; the
profiles (``demo``, ``test``, ``production``) only change what must differ. Every variable is listed,
with its default, in the README.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

from tradingsvc.logconfig import build_logging_config, configure_structlog

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# --- core -----------------------------------------------------------------------------------
SECRET_KEY: str = env("DJANGO_SECRET_KEY", default="")
DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # daphne first: its runserver serves ASGI (websockets) in development.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's session list uses it
    "channels",
    "rest_framework",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",
    "csp",
    "django_otp",
    # Project apps.
    "accounts",
    "ops",
    "exchange",
    "bots",
    "billing",
    "reports",
    "portal",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tradingsvc.middleware.CorrelationIdMiddleware",
    "csp.middleware.CSPMiddleware",
    "tradingsvc.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.RequireClientTwoFactorMiddleware",
    "accounts.middleware.CurrentMembershipMiddleware",
    # Last, so that a lockout answer is given after authentication was attempted.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from our own static files (no inline script
# anywhere; data for scripts travels in json_script or data- attributes), no plugin, no framing,
# forms post only to us. Inline styles stay allowed: the chart library writes style elements.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "tradingsvc.urls"
WSGI_APPLICATION = "tradingsvc.wsgi.application"
ASGI_APPLICATION = "tradingsvc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "bots.context_processors.emergency_stop",
            ],
        },
    },
]

# --- data -----------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/tradingsvc"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis serves the Celery broker, the cache, the channel layer and the worker heartbeats.
REDIS_URL: str = env("REDIS_URL", default="redis://127.0.0.1:6379/0")


def redis_backed_settings(redis_url: str, prefix: str) -> dict[str, Any]:
    """The settings that follow the Redis URL; each profile applies them with ``vars().update``."""
    return {
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": env("CELERY_BROKER_URL", default=redis_url),
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": prefix,
            }
        },
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [redis_url], "prefix": f"{prefix}:channels"},
            }
        },
    }


vars().update(redis_backed_settings(REDIS_URL, "tradingsvc"))

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # axes first: a locked-out account or address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "home"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
# The cookie age is an idle timeout, not a hard one: accounts.middleware.IdleTimeoutMiddleware
# renews the session on what a person does, not on the dashboard's own background refreshes.
SESSION_SAVE_EVERY_REQUEST = False

# Client login: django-allauth, email and password, invitation-only signup (the adapter closes
# open signup), TOTP with recovery codes enforced by accounts.middleware before any data.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# allauth's own sensitive account changes (email address, which leads to a password reset) ask for
# the password again too.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT_SECONDS", default=300)
ACCOUNT_RATE_LIMITS = {
    # Per-IP limit on login attempts, on top of axes' per-account lockout.
    "login": "20/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
}
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "tradingsvc"
USERSESSIONS_TRACK_ACTIVITY = True

# Lockout after repeated failures, for a cool-off; the operator can also unlock from admin (user action).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# A cool-off, not a permanent lock: a permanent one lets anyone who knows a client's address shut
# them out. Failures during the lock do not extend it. The owner and the operators are emailed,
# the owner with a one-time emergency-stop link (accounts.services.lockout).
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
EMERGENCY_LINK_TTL_MINUTES: int = env.int("EMERGENCY_LINK_TTL_MINUTES", default=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.auth.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.adapters.axes_username"
AXES_ENABLE_ADMIN = True
# Lockout is per account (an attacker rotating addresses still hits the account's limit); the
# per-address limit is allauth's "login" rate limit, applied to the admin login too
# (accounts.ratelimits). Locking whole addresses would shut out clients behind a shared NAT.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Reverse proxies whose X-Forwarded-For is believed for the audit trail's client address
# (accounts.services.audit.client_ip), e.g. "172.16.0.0/12" for the compose network; empty: none.
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
# Viewer invitations (and resends) one tenant may send per hour.
INVITATIONS_PER_HOUR: int = env.int("INVITATIONS_PER_HOUR", default=10)
# Where clients may create their keys; the local simulator only where one runs (demo, tests).
EXCHANGE_CLIENT_ENVIRONMENTS: list[str] = env.list(
    "EXCHANGE_CLIENT_ENVIRONMENTS", default=["mainnet", "testnet", "demo", "simulator"]
)
# The public address of the site, for links in emails sent outside a request (tasks).
SITE_URL: str = env("SITE_URL", default="http://127.0.0.1:8000")
# Minutes a streams shard may stay silent before the operator is alerted.
CONNECTIVITY_ALERT_MINUTES: int = env.int("CONNECTIVITY_ALERT_MINUTES", default=5)
# Operator alerts (no tenant, or a tenant's alert the staff must act on too) are emailed to every
# active staff user; this webhook (signed with the secret like a client's) also receives them.
OPERATOR_ALERT_WEBHOOK_URL: str = env("OPERATOR_ALERT_WEBHOOK_URL", default="")
OPERATOR_ALERT_WEBHOOK_SECRET: str = env("OPERATOR_ALERT_WEBHOOK_SECRET", default="")
# Ticks in a row that fail (or have every order refused for lack of margin) before a bot is put in
# the error state and its client and the operator are alerted.
BOT_ERROR_AFTER_FAILED_TICKS: int = env.int("BOT_ERROR_AFTER_FAILED_TICKS", default=3)
# Bots ticked per Celery task (they share the candle and usually the signal).
TICK_BATCH_SIZE: int = env.int("TICK_BATCH_SIZE", default=25)
# Live orders in flight at once per worker process (each key's orders still go one at a time).
TICK_SEND_THREADS: int = env.int("TICK_SEND_THREADS", default=8)
# Equity a dry-run bot without an exchange key sizes its simulated orders from (USDT).
DRY_RUN_EQUITY: str = env("DRY_RUN_EQUITY", default="10000")
INVITATION_TTL_DAYS: int = env.int("INVITATION_TTL_DAYS", default=7)
OTP_TOTP_ISSUER = "tradingsvc operator"

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["tradingsvc.formats"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT: Path | None = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "tradingsvc.lib.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Without collectstatic, whitenoise serves straight from the finders (demo and tests).
WHITENOISE_USE_FINDERS = True

# --- email ----------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL: str = env("DEFAULT_FROM_EMAIL", default="tradingsvc <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- celery ---------------------------------------------------------------------------------
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True  # runs are recorded in ops.TaskRun, not in a result backend.
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Late acks plus requeue on a lost worker: a task killed mid-way runs again. Every task is therefore
# fenced by a unique database row (one tick per bot per candle, one invoice per period), so a second
# delivery is a no-op rather than a second order.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks are short (seconds). The hard time limit is far below the visibility timeout, so a task that
# is still running is never redelivered to a second worker. No task may use an ETA or countdown
# longer than the visibility timeout: long delays go through beat and database state instead.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Sweep for unacked messages of dead workers every 30 s instead of kombu's ~100 s.
    "unacked_restore_interval": 30,
}
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery would re-log stdout/stderr one write at a time (a traceback becomes a line per character).
CELERY_WORKER_REDIRECT_STDOUTS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "tradingsvc.beat:LockedDatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "ops-prune-task-runs": {
        "task": "ops.prune_task_runs",
        "schedule": 6 * 60 * 60.0,
    },
    "bots-dispatch-ticks": {
        "task": "bots.dispatch_ticks",
        "schedule": 2.0,
    },
    "bots-reconcile": {
        "task": "bots.reconcile_all",
        "schedule": 60.0,
    },
    "bots-watch": {
        "task": "bots.watch",
        "schedule": 300.0,
    },
    "bots-snapshot-equity": {
        "task": "bots.snapshot_equity",
        "schedule": 300.0,
    },
    "bots-books-check": {
        "task": "bots.books_check",
        "schedule": 24 * 60 * 60.0,
    },
    "reports-refresh-trade-rollups": {
        "task": "reports.refresh_trade_rollups",
        "schedule": 600.0,
    },
    # The entry keeps its first name: the database scheduler updates an entry by name, so a new
    # name would leave the old one (and its old task name) behind in deployed databases.
    "accounts-validate-exchange-keys": {
        "task": "exchange.validate_exchange_keys",
        "schedule": 24 * 60 * 60.0,
    },
    "accounts-purge-expired-sessions": {
        "task": "accounts.purge_expired_sessions",
        "schedule": 60 * 60.0,
    },
}
# The demo launcher's folder (SQLite, embedded Redis, logs, mail) and its embedded Redis port.
DEMO_DIR = Path(env("DEMO_DIR", default=str(VAR_DIR / "demo")))
DEMO_REDIS_PORT: int = env.int("DEMO_REDIS_PORT", default=16379)
BEAT_LOCK_FILE = Path(env("BEAT_LOCK_FILE", default=str(VAR_DIR / "beat.lock")))

# --- secrets at rest -----------------------------------------------------------------------
# Master keys for envelope encryption: "<id>:<base64 32 bytes>[,<id>:<...>]", first one active.
# Generate an entry with: python -c "from tradingsvc.lib.crypto import generate_master_key_entry as g; print(g('k1'))"
TRADINGSVC_MASTER_KEYS: str = env("TRADINGSVC_MASTER_KEYS", default="")

# --- outgoing webhooks (tradingsvc/lib/webhooks.py) ------------------------------------------
# Networks a webhook may reach although they are not public (an on-premises receiver), e.g.
# "203.0.113.0/24"; empty: public unicast addresses only. Never put your own hosts' range here.
WEBHOOK_ALLOWED_NETWORKS: list[str] = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
# CA bundle receivers' certificates are checked against; empty: the system's.
WEBHOOK_CA_BUNDLE: str = env("WEBHOOK_CA_BUNDLE", default="")

# --- operations -----------------------------------------------------------------------------
TASK_RUN_RETENTION_DAYS: int = env.int("TASK_RUN_RETENTION_DAYS", default=30)
WORKER_HEARTBEAT_INTERVAL_SECONDS: float = env.float(
    "WORKER_HEARTBEAT_INTERVAL_SECONDS", default=5.0
)
WORKER_HEARTBEAT_TTL_SECONDS: float = env.float("WORKER_HEARTBEAT_TTL_SECONDS", default=20.0)
# How often an open live socket re-checks that its user and tenant may still receive (portal.consumers).
LIVE_SOCKET_RECHECK_SECONDS: float = env.float("LIVE_SOCKET_RECHECK_SECONDS", default=30.0)
HEALTHZ_TIMEOUT_SECONDS: float = env.float("HEALTHZ_TIMEOUT_SECONDS", default=2.0)

# --- logging and errors ---------------------------------------------------------------------
LOG_LEVEL: str = env("LOG_LEVEL", default="INFO")
LOG_FORMAT: str = env("LOG_FORMAT", default="json")
configure_structlog(json=LOG_FORMAT == "json")
LOGGING = build_logging_config(level=LOG_LEVEL, json=LOG_FORMAT == "json")

SENTRY_DSN: str = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT: str = env("SENTRY_ENVIRONMENT", default="development")
SENTRY_TRACES_SAMPLE_RATE: float = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
}


if SENTRY_DSN:
    from tradingsvc.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE
    )

# --- exchange gateway ---
# Where each environment's REST and WebSocket traffic goes (exchange/bybit_client.py, streams).
# The simulator is the local Bybit v5 (exchange/simulator), REST and WS on one port.
EXCHANGE_SIMULATOR_HOST: str = env("EXCHANGE_SIMULATOR_HOST", default="127.0.0.1")
EXCHANGE_SIMULATOR_PORT: int = env.int("EXCHANGE_SIMULATOR_PORT", default=8765)
EXCHANGE_REST_URLS: dict[str, str] = {
    "mainnet": "https://api.bybit.com",
    "testnet": "https://api-testnet.bybit.com",
    "demo": "https://api-demo.bybit.com",
    "simulator": f"http://{EXCHANGE_SIMULATOR_HOST}:{EXCHANGE_SIMULATOR_PORT}",
}
# Demo trading has private streams only; its public data is mainnet's (docs/v5/demo).
EXCHANGE_WS_URLS: dict[str, dict[str, str]] = {
    "mainnet": {"public": "wss://stream.bybit.com", "private": "wss://stream.bybit.com"},
    "testnet": {
        "public": "wss://stream-testnet.bybit.com",
        "private": "wss://stream-testnet.bybit.com",
    },
    "demo": {"public": "wss://stream.bybit.com", "private": "wss://stream-demo.bybit.com"},
    "simulator": {
        "public": f"ws://{EXCHANGE_SIMULATOR_HOST}:{EXCHANGE_SIMULATOR_PORT}",
        "private": f"ws://{EXCHANGE_SIMULATOR_HOST}:{EXCHANGE_SIMULATOR_PORT}",
    },
}
EXCHANGE_HTTP_TIMEOUT_SECONDS: float = env.float("EXCHANGE_HTTP_TIMEOUT_SECONDS", default=10.0)
EXCHANGE_RECV_WINDOW_MS: int = env.int("EXCHANGE_RECV_WINDOW_MS", default=5000)
EXCHANGE_CLOCK_TTL_SECONDS: float = env.float("EXCHANGE_CLOCK_TTL_SECONDS", default=300.0)
EXCHANGE_READ_ATTEMPTS: int = env.int("EXCHANGE_READ_ATTEMPTS", default=3)
# Shared limiter budgets (exchange/limiter.py). Per-UID limits per second, Bybit's published
# defaults (docs/v5/rate-limit, linear); X-Bapi-Limit overrides them once Bybit tells us more.
EXCHANGE_UID_LIMITS: dict[str, int] = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/position/list": 50,
    "/v5/position/closed-pnl": 50,
    "/v5/position/set-leverage": 10,
    "/v5/position/trading-stop": 10,
    "/v5/account/wallet-balance": 50,
    "/v5/account/transaction-log": 25,
    "/v5/user/query-api": 10,
}
EXCHANGE_DEFAULT_UID_LIMIT: int = 10
# 600 requests per 5 s per IP for every tenant together; keep a little headroom.
EXCHANGE_IP_BUDGET: int = env.int("EXCHANGE_IP_BUDGET", default=550)
EXCHANGE_IP_WINDOW_MS: int = env.int("EXCHANGE_IP_WINDOW_MS", default=5000)
EXCHANGE_LIMIT_MARGIN_MS: int = env.int("EXCHANGE_LIMIT_MARGIN_MS", default=50)
EXCHANGE_IP_BAN_SECONDS: float = env.float("EXCHANGE_IP_BAN_SECONDS", default=600.0)
EXCHANGE_LIMIT_MAX_WAIT_SECONDS: float = env.float("EXCHANGE_LIMIT_MAX_WAIT_SECONDS", default=30.0)
# Hosts behind one NAT share a budget: give them the same name; hosts with their own IP, their own.
EXCHANGE_EGRESS_NAME: str = env("EXCHANGE_EGRESS_NAME", default="default")
# Candles: each pair keeps its readers' largest lookback + the margin, never fewer than the backfill,
# whole; each run also looks for gaps this many intervals back (whichever window is longer).
EXCHANGE_CANDLE_BACKFILL: int = env.int("EXCHANGE_CANDLE_BACKFILL", default=1000)
EXCHANGE_CANDLE_DEPTH_MARGIN: int = env.int("EXCHANGE_CANDLE_DEPTH_MARGIN", default=50)
EXCHANGE_CANDLE_REPAIR_WINDOW: int = env.int("EXCHANGE_CANDLE_REPAIR_WINDOW", default=1000)
# Where bots without a key (dry run) read candles; a bot with a key reads its key's environment
# (demo trading: mainnet's). Production: mainnet's real market.
EXCHANGE_MARKET_DATA_ENVIRONMENT: str = env("EXCHANGE_MARKET_DATA_ENVIRONMENT", default="mainnet")
# Pairs kept even when no bot uses them, e.g. [("BTCUSDT", "1")] (default environment) or
# [("testnet", "BTCUSDT", "1")].
EXCHANGE_MARKET_DATA_ALWAYS: list[tuple[str, ...]] = []
EXCHANGE_INSTRUMENTS_TTL_SECONDS: float = env.float(
    "EXCHANGE_INSTRUMENTS_TTL_SECONDS", default=3600.0
)
# Streams (exchange/streams): where received events go. Dotted paths of callables; the engine
# (issue 7) adds its own. Each gets one typed event (exchange.streams.events).
EXCHANGE_STREAM_HANDLERS: list[str] = ["bots.services.fills.on_stream_event"]
# The engine hears of key checks and rotations (``exchange.events``) through the same mechanism.
EXCHANGE_KEY_HANDLERS: list[str] = ["bots.services.watch.on_key_event"]
# The engine and the exchange hear of tenants halted, erased and exported (``accounts.events``):
# in this order, so that open orders are cancelled before the keys that cancel them are erased.
ACCOUNTS_EVENT_HANDLERS: list[str] = [
    "bots.tasks.on_accounts_event",
    "exchange.services.keys.on_accounts_event",
]
# Reports hears of every equity snapshot (``bots.events``) the same way.
BOTS_EVENT_HANDLERS: list[str] = ["reports.services.rollups.on_bots_event"]
EXCHANGE_STREAM_PING_SECONDS: float = 20.0
# Bybit allows 500 new WebSocket connections per 5 minutes per IP; keep some headroom.
EXCHANGE_STREAM_CONNECTS_PER_5MIN: int = env.int("EXCHANGE_STREAM_CONNECTS_PER_5MIN", default=450)
# How far back the REST catch-up looks for a connection with no stored execution yet.
EXCHANGE_STREAM_CATCHUP_HOURS: float = env.float("EXCHANGE_STREAM_CATCHUP_HOURS", default=24.0)
EXCHANGE_STREAM_ASSIGNMENT_SECONDS: float = env.float("EXCHANGE_STREAM_ASSIGNMENT_SECONDS", 15.0)
CELERY_BEAT_SCHEDULE.update(
    {
        "exchange-sync-candles": {
            "task": "exchange.sync_candles",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "exchange-refresh-instruments": {
            "task": "exchange.refresh_instruments",
            "schedule": 60 * 60.0,
        },
    }
)
