"""The guard every server entry point runs before Django: the settings module must be named.

Falling back to a default profile would fail open: the demo profile carries a public SECRET_KEY
and generates master keys beside the code, so a production process started without the variable
would sign sessions with a key anyone can read. ``manage.py`` keeps the demo default for people
at a terminal; daphne, WSGI servers and Celery workers get no default.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def require_settings_module() -> str:
    """The ``DJANGO_SETTINGS_MODULE`` in the environment; raises when it is unset or empty."""
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "").strip()
    if not module:
        raise ImproperlyConfigured(
            "DJANGO_SETTINGS_MODULE is not set: name the profile explicitly "
            "(tradingsvc.settings.production in production, .demo for the demo)."
        )
    return module
