"""Operations infrastructure: background-run records, worker heartbeats, health checks, live publish.

Every app may use it; it uses none of them (the live-updates socket that reads bots is the
portal's, the demo commands are ``demo``'s).
"""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Connect the Celery signal handlers that record runs and carry log context.
        from ops import signals  # noqa: F401
