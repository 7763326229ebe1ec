"""tradingsvc: Django project wiring (settings, urls, asgi, celery, routing)."""

from tradingsvc.celery import app as celery_app

__all__ = ["celery_app"]
