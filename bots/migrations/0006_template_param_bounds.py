"""Bounds for the seeded templates' strategy parameters (a parameter without bounds is fixed).

Numbers are ``[low, high]`` (inclusive, as strings); a yes/no parameter lists the values allowed,
so Conservative, long only, allows ``[false]`` for shorting.
"""

from django.db import migrations

PARAM_BOUNDS = {
    "conservative": {
        "fast_period": ["10", "30"], "slow_period": ["30", "100"], "atr_period": ["10", "30"],
        "atr_stop_multiple": ["2", "3"], "reward_risk": ["1", "3"], "allow_short": [False],
    },
    "moderate": {
        "fast_period": ["5", "30"], "slow_period": ["20", "60"], "atr_period": ["7", "30"],
        "atr_stop_multiple": ["1.5", "3"], "reward_risk": ["1", "4"], "allow_short": [False, True],
    },
    "aggressive": {
        "bb_period": ["10", "40"], "bb_width": ["1.5", "3"], "rsi_period": ["7", "28"],
        "rsi_oversold": ["20", "40"], "rsi_overbought": ["60", "80"], "atr_period": ["7", "30"],
        "atr_stop_multiple": ["1", "2.5"], "allow_short": [False, True],
    },
}


def add_bounds(apps, schema_editor):
    RiskTemplate = apps.get_model("bots", "RiskTemplate")
    for slug, bounds in PARAM_BOUNDS.items():
        for template in RiskTemplate.objects.filter(slug=slug):
            template.bounds = {**bounds, **template.bounds}  # the operator's own bounds win
            template.save(update_fields=["bounds"])


def remove_bounds(apps, schema_editor):
    RiskTemplate = apps.get_model("bots", "RiskTemplate")
    for slug, bounds in PARAM_BOUNDS.items():
        for template in RiskTemplate.objects.filter(slug=slug):
            template.bounds = {k: v for k, v in template.bounds.items() if k not in bounds}
            template.save(update_fields=["bounds"])


class Migration(migrations.Migration):
    dependencies = [("bots", "0005_bot_health_and_alert_codes")]
    operations = [migrations.RunPython(add_bounds, remove_bounds)]
