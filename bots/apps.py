"""Bots as rows: strategies, risk templates, ticks, order intents, reconciliation (issue 7)."""

from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"
