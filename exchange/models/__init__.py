"""Exchange models, one module per concern: accounts, connections (keys), market data, streams."""

from exchange.models.account import ExchangeAccount
from exchange.models.connection import ExchangeConnection, ExchangeEnvironment
from exchange.models.market import Candle, MarketDataSubscription
from exchange.models.streams import Execution, StreamShard

__all__ = [
    "Candle",
    "ExchangeAccount",
    "ExchangeConnection",
    "ExchangeEnvironment",
    "Execution",
    "MarketDataSubscription",
    "StreamShard",
]
