"""The production profile: everything from the environment, secure by default.

It refuses to start without its secrets: a missing ``DJANGO_SECRET_KEY``, ``DATABASE_URL``,
``REDIS_URL``, ``DJANGO_ALLOWED_HOSTS`` or ``TRADINGSVC_MASTER_KEYS`` raises ``ImproperlyConfigured`` naming the variable.
"""

from django.core.exceptions import ImproperlyConfigured

from tradingsvc.settings.base import *  # noqa: F403
from tradingsvc.settings.base import SILENCED_SYSTEM_CHECKS, env, redis_backed_settings

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

TRADINGSVC_MASTER_KEYS = env("TRADINGSVC_MASTER_KEYS")
try:
    from tradingsvc.lib.crypto import Keyring, KeyringError

    Keyring.parse(TRADINGSVC_MASTER_KEYS)
except KeyringError as exc:
    raise ImproperlyConfigured(str(exc)) from None

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

vars().update(redis_backed_settings(env("REDIS_URL"), "tradingsvc"))

vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))

# HTTPS everywhere; the reverse proxy terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Preloading is hard to undo, so it is the operator's explicit choice; not warned about when off.
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# No local simulator for clients in production: real Bybit environments only.
EXCHANGE_CLIENT_ENVIRONMENTS = env.list(
    "EXCHANGE_CLIENT_ENVIRONMENTS", default=["mainnet", "testnet", "demo"]
)
