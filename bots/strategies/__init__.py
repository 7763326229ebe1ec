"""Strategy plug-ins: pure functions with no Django import, listed in :data:`REGISTRY`.

Add a strategy by writing a module with a ``STRATEGY`` and listing it here; forms, admin and the
engine read its parameter schema from the registry.
"""

from bots.strategies import mean_reversion, trend_ema
from bots.strategies.base import (
    Bar,
    InvalidParameters,
    ParamKind,
    ParamSpec,
    Signal,
    Strategy,
    Target,
)

REGISTRY: dict[str, Strategy] = {s.name: s for s in (trend_ema.STRATEGY, mean_reversion.STRATEGY)}


def get_strategy(name: str) -> Strategy:
    try:
        return REGISTRY[name]
    except KeyError:
        raise InvalidParameters({"strategy": f"Unknown strategy '{name}'."}) from None


__all__ = [
    "REGISTRY",
    "Bar",
    "InvalidParameters",
    "ParamKind",
    "ParamSpec",
    "Signal",
    "Strategy",
    "Target",
    "get_strategy",
]
