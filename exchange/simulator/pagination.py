"""Bybit-style cursor paging: an opaque, URL-encoded ``nextPageCursor`` ("" on the last page).

The cursor names the last record returned (by its sequence number), not an offset, so records
arriving between two pages never shift what the next page shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

from exchange.simulator.errors import PARAM_ERROR, BybitError

T = TypeVar("T")


def page(items: list[T], key: Callable[[T], int], limit: int, cursor: str) -> tuple[list[T], str]:
    """``items`` newest first; returns one page and the cursor for the next."""
    if cursor:
        try:
            fields = dict(part.split("=", 1) for part in cursor.split("&") if part)
            after = int(fields["page_args"])
        except (KeyError, ValueError):
            raise BybitError(PARAM_ERROR, "params error: cursor invalid") from None
        items = [i for i in items if key(i) < after]
    chunk = items[:limit]
    more = len(items) > limit
    return chunk, quote(f"page_args={key(chunk[-1])}&", safe="") if more and chunk else ""
