"""Operations: background-run records, worker heartbeats, health checks, live-update sockets."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Connect the Celery signal handlers that record runs and carry log context.
        from ops import signals  # noqa: F401
