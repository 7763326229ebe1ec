"""WSGI entry point (used by pytest-django's live server; production serves ASGI through daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradingsvc.settings.demo")

application = get_wsgi_application()
