"""The gateway to Bybit v5 and the local simulator (exchange.simulator, which has no Django imports)."""

from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Exchange"
