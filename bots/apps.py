"""Bots as rows: strategies, risk templates, ticks, order intents, reconciliation, protection."""

from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self) -> None:
        from accounts.services.exchange_keys import register_key_user

        # A bot follows its exchange key through rotation.
        register_key_user("bots.Bot", "connection")
