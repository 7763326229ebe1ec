"""WSGI entry point (used by pytest-django's live server; production serves ASGI through daphne)."""

from django.core.wsgi import get_wsgi_application

from tradingsvc.entrypoint import require_settings_module

require_settings_module()  # no fallback profile: see tradingsvc.entrypoint

application = get_wsgi_application()
