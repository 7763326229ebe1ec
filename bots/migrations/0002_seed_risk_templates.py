"""Seeds the three risk templates; the operator edits them and adds more in admin."""

from decimal import Decimal as D

from django.db import migrations

TEMPLATES = [
    {
        "slug": "conservative",
        "name": "Conservative",
        "description": "Trend following on 1-hour candles, long only, 0.5% of equity at risk per trade, no more than 1x equity in a position.",
        "strategy": "trend_ema",
        "strategy_params": {"fast_period": 20, "slow_period": 50, "atr_period": 14, "atr_stop_multiple": "2.5", "reward_risk": "2", "allow_short": False},
        "timeframe": "60",
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "risk_per_trade": D("0.005"), "max_position_multiple": D("1"), "max_leverage": D("2"),
        "default_stop_fraction": D("0.02"), "default_take_profit_fraction": D("0.04"),
        "daily_loss_limit": D("0.02"), "max_drawdown": D("0.08"),
        "bounds": {"risk_per_trade": ["0.001", "0.005"], "max_position_multiple": ["0.2", "1"], "max_leverage": ["1", "2"],
                   "daily_loss_limit": ["0.005", "0.02"], "max_drawdown": ["0.02", "0.08"]},
    },
    {
        "slug": "moderate",
        "name": "Moderate",
        "description": "Trend following on 15-minute candles, long and short, 1% of equity at risk per trade, up to 2x equity.",
        "strategy": "trend_ema",
        "strategy_params": {"fast_period": 12, "slow_period": 26, "atr_period": 14, "atr_stop_multiple": "2", "reward_risk": "2", "allow_short": True},
        "timeframe": "15",
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "risk_per_trade": D("0.01"), "max_position_multiple": D("2"), "max_leverage": D("3"),
        "default_stop_fraction": D("0.015"), "default_take_profit_fraction": D("0.03"),
        "daily_loss_limit": D("0.04"), "max_drawdown": D("0.15"),
        "bounds": {"risk_per_trade": ["0.002", "0.015"], "max_position_multiple": ["0.5", "2"], "max_leverage": ["1", "3"],
                   "daily_loss_limit": ["0.01", "0.04"], "max_drawdown": ["0.05", "0.15"]},
    },
    {
        "slug": "aggressive",
        "name": "Aggressive",
        "description": "Mean reversion on 5-minute candles, long and short, 2% of equity at risk per trade, up to 3x equity.",
        "strategy": "mean_reversion",
        "strategy_params": {"bb_period": 20, "bb_width": "2", "rsi_period": 14, "rsi_oversold": "30", "rsi_overbought": "70", "atr_period": 14, "atr_stop_multiple": "1.5", "allow_short": True},
        "timeframe": "5",
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "risk_per_trade": D("0.02"), "max_position_multiple": D("3"), "max_leverage": D("5"),
        "default_stop_fraction": D("0.01"), "default_take_profit_fraction": D("0.02"),
        "daily_loss_limit": D("0.06"), "max_drawdown": D("0.25"),
        "bounds": {"risk_per_trade": ["0.005", "0.03"], "max_position_multiple": ["1", "3"], "max_leverage": ["1", "5"],
                   "daily_loss_limit": ["0.02", "0.06"], "max_drawdown": ["0.1", "0.25"]},
    },
]


def seed(apps, schema_editor):
    RiskTemplate = apps.get_model("bots", "RiskTemplate")
    for spec in TEMPLATES:
        RiskTemplate.objects.update_or_create(slug=spec["slug"], defaults={k: v for k, v in spec.items() if k != "slug"})


def unseed(apps, schema_editor):
    apps.get_model("bots", "RiskTemplate").objects.filter(slug__in=[t["slug"] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("bots", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
