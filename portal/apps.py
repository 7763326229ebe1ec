"""The client web app (``/app/...``): every page a client uses, its URLs and its live-updates socket.

It sits on top of the apps whose services it calls (accounts, exchange, bots, reports, billing) and
holds no business logic of its own: views parse the request, call a service or a selector, render.
"""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Client portal"
