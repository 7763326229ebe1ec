"""The two contracts the simulator lists, with Bybit's real linear filters.

BTCUSDT's filters are the ones in Bybit's instruments-info example (docs/v5/market/instrument.mdx);
ETHUSDT uses Bybit's published ETHUSDT perpetual filters (tick 0.01, qty step 0.01). The maintenance
margin rate is the first risk-limit tier (0.5%), used only for the liquidation-price approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any


@dataclass(frozen=True)
class Instrument:
    """Static contract facts: everything validation and the instruments-info answer need."""

    symbol: str
    symbol_id: int
    base_coin: str
    launch_time: int
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_market_qty: Decimal
    min_notional: Decimal
    max_leverage: Decimal
    maintenance_rate: Decimal
    book_base_size: Decimal

    def round_price(self, price: Decimal) -> Decimal:
        """Snap a computed price (interpolation, averages) onto the tick grid."""
        return (
            (price / self.tick_size).to_integral_value(ROUND_HALF_EVEN) * self.tick_size
        ).quantize(self.tick_size)

    def floor_qty(self, qty: Decimal) -> Decimal:
        return ((qty / self.qty_step).to_integral_value(ROUND_DOWN) * self.qty_step).quantize(
            self.qty_step
        )

    def on_tick(self, price: Decimal) -> bool:
        return (price % self.tick_size) == 0

    def on_step(self, qty: Decimal) -> bool:
        return (qty % self.qty_step) == 0

    def info(self) -> dict[str, Any]:
        """The instruments-info list item, in Bybit's key order and JSON types."""
        return {
            "symbol": self.symbol,
            "symbolId": self.symbol_id,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": self.base_coin,
            "quoteCoin": "USDT",
            "launchTime": str(self.launch_time),
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": "2",
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": f"{self.max_leverage:.2f}",
                "leverageStep": "0.01",
            },
            "priceFilter": {
                "minPrice": f"{self.min_price:.2f}",
                "maxPrice": f"{self.max_price:.2f}",
                "tickSize": f"{self.tick_size:.2f}",
            },
            "lotSizeFilter": {
                "maxOrderQty": str(self.max_qty),
                "minOrderQty": str(self.min_qty),
                "qtyStep": str(self.qty_step),
                "postOnlyMaxOrderQty": str(self.max_qty),
                "maxMktOrderQty": str(self.max_market_qty),
                "minNotionalValue": str(self.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": "USDT",
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "symbolType": "",
        }


INSTRUMENTS: dict[str, Instrument] = {
    "BTCUSDT": Instrument(
        symbol="BTCUSDT",
        symbol_id=5,
        base_coin="BTC",
        launch_time=1585526400000,
        tick_size=Decimal("0.10"),
        min_price=Decimal("0.10"),
        max_price=Decimal("1999999.80"),
        qty_step=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal("1190.000"),
        max_market_qty=Decimal("500.000"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("100"),
        maintenance_rate=Decimal("0.005"),
        book_base_size=Decimal("2"),
    ),
    "ETHUSDT": Instrument(
        symbol="ETHUSDT",
        symbol_id=6,
        base_coin="ETH",
        launch_time=1615766400000,
        tick_size=Decimal("0.01"),
        min_price=Decimal("0.01"),
        max_price=Decimal("199999.98"),
        qty_step=Decimal("0.01"),
        min_qty=Decimal("0.01"),
        max_qty=Decimal("7240.00"),
        max_market_qty=Decimal("3620.00"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("100"),
        maintenance_rate=Decimal("0.005"),
        book_base_size=Decimal("30"),
    ),
}

MAKER_FEE = Decimal("0.0002")
TAKER_FEE = Decimal("0.00055")


def _spot(symbol: str, base: str, base_precision: str, tick: str, max_qty: str) -> dict[str, Any]:
    """A spot pair in the shape of Bybit's spot instruments-info (listed, never traded here)."""
    return {
        "symbol": symbol,
        "baseCoin": base,
        "quoteCoin": "USDT",
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": base_precision,
            "quotePrecision": "0.00000001",
            "minOrderQty": base_precision,
            "maxOrderQty": max_qty,
            "minOrderAmt": "1",
            "maxOrderAmt": "2000000",
        },
        "priceFilter": {"tickSize": tick},
        "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
        "symbolType": "",
    }


def _inverse(symbol: str, base: str, symbol_id: int, launch: int, tick: str) -> dict[str, Any]:
    """An inverse perpetual (settled in its base coin), listed in the linear item's shape."""
    return {
        "symbol": symbol,
        "symbolId": symbol_id,
        "contractType": "InversePerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": "USD",
        "launchTime": str(launch),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": tick, "maxPrice": "1999999.00", "tickSize": tick},
        "lotSizeFilter": {
            "maxOrderQty": "1000000",
            "minOrderQty": "1",
            "qtyStep": "1",
            "postOnlyMaxOrderQty": "1000000",
            "maxMktOrderQty": "200000",
            "minNotionalValue": "",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": base,
        "copyTrading": "none",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
        "isPreListing": False,
        "preListingInfo": None,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "symbolType": "",
    }


# What instruments-info lists per category. Only "linear" trades; the rest answer orders with
# "category only support linear" (10001). Options are listed per strike on Bybit: none here.
LISTED: dict[str, list[dict[str, Any]]] = {
    "linear": [i.info() for i in INSTRUMENTS.values()],
    "spot": [
        _spot("BTCUSDT", "BTC", "0.000001", "0.1", "71.73956243"),
        _spot("ETHUSDT", "ETH", "0.00001", "0.01", "1229.2336343"),
    ],
    "inverse": [
        _inverse("BTCUSD", "BTC", 1, 1542211200000, "0.50"),
        _inverse("ETHUSD", "ETH", 2, 1548979200000, "0.05"),
    ],
    "option": [],
}
