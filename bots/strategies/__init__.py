"""Strategy plug-ins: pure functions, listed in :data:`REGISTRY`; no Django (texts: ``text._``).

Add a strategy by writing a module with a ``STRATEGY`` and listing it here; forms, admin and the
engine read its parameter schema from the registry.
"""

from bots.strategies import mean_reversion, trend_ema
from bots.strategies.base import (
    Bar,
    InvalidParameters,
    NoDecision,
    NoDecisionCode,
    ParamKind,
    ParamSpec,
    Signal,
    Strategy,
    Target,
    decision_window,
)
from bots.strategies.text import _

REGISTRY: dict[str, Strategy] = {s.name: s for s in (trend_ema.STRATEGY, mean_reversion.STRATEGY)}


def get_strategy(name: str) -> Strategy:
    try:
        return REGISTRY[name]
    except KeyError:
        raise InvalidParameters(
            {"strategy": _("Unknown strategy '%(name)s'.") % {"name": name}}
        ) from None


__all__ = [
    "REGISTRY",
    "Bar",
    "InvalidParameters",
    "NoDecision",
    "NoDecisionCode",
    "ParamKind",
    "ParamSpec",
    "Signal",
    "Strategy",
    "Target",
    "decision_window",
    "get_strategy",
]
