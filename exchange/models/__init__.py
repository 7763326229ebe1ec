"""Exchange models, one module per concern: accounts, connections (keys), market data, streams."""

from exchange.models.account import ExchangeAccount
from exchange.models.connection import ExchangeConnection, ExchangeEnvironment
from exchange.models.market import Candle, CandleHole, MarketDataSubscription
from exchange.models.streams import Execution, StreamShard

__all__ = [
    "Candle",
    "CandleHole",
    "ExchangeAccount",
    "ExchangeConnection",
    "ExchangeEnvironment",
    "Execution",
    "MarketDataSubscription",
    "StreamShard",
]
