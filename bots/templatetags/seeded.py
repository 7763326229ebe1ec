"""The seeded risk templates' names and descriptions, in the page's language.

Rows the operator adds or edits in admin are shown as typed; the three seeded by
``bots/migrations/0002_seed_risk_templates.py`` are in the translation catalogue.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext, gettext_noop

register = template.Library()

SEEDED_TEXTS = frozenset(
    (
        gettext_noop("Conservative"),
        gettext_noop("Moderate"),
        gettext_noop("Aggressive"),
        # xgettext:no-python-format
        gettext_noop(
            "Trend following on 1-hour candles, long only, 0.5% of equity at risk per trade, no more than 1x equity in a position."
        ),
        # xgettext:no-python-format
        gettext_noop(
            "Trend following on 15-minute candles, long and short, 1% of equity at risk per trade, up to 2x equity."
        ),
        # xgettext:no-python-format
        gettext_noop(
            "Mean reversion on 5-minute candles, long and short, 2% of equity at risk per trade, up to 3x equity."
        ),
    )
)


@register.filter
def seeded_text(value: str) -> str:
    return gettext(value) if value in SEEDED_TEXTS else value
