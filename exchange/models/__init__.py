"""Exchange models, one module per concern: connections (keys), market data, streams."""

from exchange.models.connection import ExchangeConnection, ExchangeEnvironment

__all__ = ["ExchangeConnection", "ExchangeEnvironment"]
