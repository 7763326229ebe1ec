"""The Celery application: Redis broker, settings from Django (``CELERY_*``), tasks autodiscovered."""

from celery import Celery

app = Celery("tradingsvc")
# Read lazily, so importing this package (``tradingsvc.lib`` helpers, manage.py) needs no
# settings; a worker or beat started without DJANGO_SETTINGS_MODULE fails on its first read
# instead of falling back to the demo profile (tradingsvc.entrypoint).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
