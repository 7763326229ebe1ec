"""The synthesised order book: a deterministic ladder around the replayed price.

The history has no depth, so the book is made up, but in a fixed, documented way: best bid = the
current price, best ask = one tick above, then one level per tick on each side. Level ``i`` (1-based)
holds ``base x (0.5 + r) x (1 + i/20)`` contracts, rounded down to the lot step, where ``r`` in [0, 1)
comes from a hash of (symbol, minute, side, level), so the book changes every minute and is the same on
every run. Market orders and crossing limit orders walk this book, which is the simulator's slippage.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from exchange.simulator.instruments import Instrument

MAX_DEPTH = 500


def _noise(symbol: str, minute: int, side: str, level: int) -> Decimal:
    digest = hashlib.blake2b(f"{symbol}:{minute}:{side}:{level}".encode(), digest_size=4).digest()
    return Decimal(int.from_bytes(digest, "big") % 1000) / 1000


def _level(
    inst: Instrument, price: Decimal, minute: int, side: str, i: int
) -> tuple[Decimal, Decimal]:
    scale = inst.book_base_size * (1 + Decimal(i) / 20)
    px = price - inst.tick_size * (i - 1) if side == "b" else price + inst.tick_size * i
    size = inst.floor_qty(scale * (Decimal("0.5") + _noise(inst.symbol, minute, side, i)))
    return px, max(size, inst.qty_step)


def levels(
    inst: Instrument, price: Decimal, now: int, depth: int = MAX_DEPTH
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """(bids, asks) as [(price, size)], best first."""
    minute = now // 60_000
    bids = [_level(inst, price, minute, "b", i) for i in range(1, depth + 1)]
    asks = [_level(inst, price, minute, "a", i) for i in range(1, depth + 1)]
    return [b for b in bids if b[0] >= inst.min_price], asks


def sweep(
    inst: Instrument, price: Decimal, now: int, side: str, qty: Decimal, limit: Decimal | None
) -> list[tuple[Decimal, Decimal]]:
    """The fills a taker order of ``qty`` gets from the synthetic book, best level first.

    ``limit`` stops the walk at the order's price. Without one, anything left after the deepest
    level fills at that level's price, so a market order always completes.
    """
    minute = now // 60_000
    book_side = "a" if side == "Buy" else "b"
    fills: list[tuple[Decimal, Decimal]] = []
    left = qty
    px = price
    for i in range(1, MAX_DEPTH + 1):
        px, size = _level(inst, price, minute, book_side, i)
        if px < inst.min_price:
            break
        if limit is not None and (
            (side == "Buy" and px > limit) or (side == "Sell" and px < limit)
        ):
            return fills
        take = min(size, left)
        fills.append((px, take))
        left -= take
        if not left:
            return fills
    if limit is None and left:
        fills.append((px, left))
    return fills
