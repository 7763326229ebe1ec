"""Bots as rows: strategies, risk templates, ticks, order intents, reconciliation, protection."""

from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self) -> None:
        from celery.signals import worker_ready

        worker_ready.connect(_reconcile_at_worker_start, weak=False)


def _reconcile_at_worker_start(**_: object) -> None:
    """Reconcile before trusting local state: a worker may start after fills it never saw."""
    from bots.tasks import reconcile_all

    reconcile_all.delay()
