"""Price-sorted ladders for resting limit orders and untriggered conditional orders.

A candle never scans the book: each monotone leg of the price path asks a ladder for the levels it
crossed (one ``bisect``), so matching costs O(log levels + orders filled) per leg.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from decimal import Decimal

from exchange.simulator.records import Order


class PriceLadder:
    """Orders grouped by price, levels kept sorted, time priority inside a level."""

    def __init__(self) -> None:
        self.prices: list[Decimal] = []
        self.levels: dict[Decimal, dict[str, Order]] = {}

    def __len__(self) -> int:
        return sum(len(level) for level in self.levels.values())

    def add(self, price: Decimal, order: Order) -> None:
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = {}
            insort(self.prices, price)
        level[order.order_id] = order

    def remove(self, price: Decimal, order_id: str) -> None:
        level = self.levels.get(price)
        if level is None or order_id not in level:
            return
        del level[order_id]
        if not level:
            del self.levels[price]
            self.prices.pop(bisect_left(self.prices, price))

    def at_or_below(self, price: Decimal) -> list[tuple[Decimal, Order]]:
        """Orders priced <= ``price``, lowest first (what a rising price reaches, in order)."""
        hits = self.prices[: bisect_right(self.prices, price)]
        return [(p, o) for p in hits for o in list(self.levels[p].values())]

    def at_or_above(self, price: Decimal) -> list[tuple[Decimal, Order]]:
        """Orders priced >= ``price``, highest first (what a falling price reaches, in order)."""
        hits = self.prices[bisect_left(self.prices, price) :]
        return [(p, o) for p in reversed(hits) for o in list(self.levels[p].values())]


class SymbolBook:
    """One symbol's resting bids/asks and its rise/fall trigger ladders."""

    def __init__(self) -> None:
        self.bids = PriceLadder()
        self.asks = PriceLadder()
        self.rise = PriceLadder()
        self.fall = PriceLadder()

    def ladder_for(self, order: Order) -> tuple[PriceLadder, Decimal]:
        """Where an open order lives and under which price."""
        if order.status == "Untriggered":
            return (self.rise if order.trigger_direction == 1 else self.fall), order.trigger_price
        return (self.bids if order.side == "Buy" else self.asks), order.price
