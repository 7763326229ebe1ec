"""Websocket routes; each app's consumers are listed here."""

from django.urls import path

from portal.consumers import LiveUpdatesConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveUpdatesConsumer.as_asgi()),
]
