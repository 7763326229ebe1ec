"""The demo: seeding clients, bots and a year of history, and the ``rundemo`` command.

It builds on every app (accounts, exchange, bots, reports), so it sits on top of the stack beside
the portal rather than inside the operations infrastructure (``ops``) that every app uses.
"""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo"
