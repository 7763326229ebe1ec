"""Seed the three plans and the operator's billing settings (idempotent: tests re-run it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations

PLANS = [
    # slug, name, USDT per month, performance rate, bots, markets, risk templates allowed
    ("basic", "Basic", "50", "0.20", 2, 2, ["conservative", "moderate"]),
    ("standard", "Standard", "75", "0.15", 5, 5, ["conservative", "moderate", "aggressive"]),
    ("premium", "Premium", "100", "0.10", 15, 10, ["conservative", "moderate", "aggressive"]),
]


def seed(apps: Any, schema_editor: Any) -> None:
    Plan = apps.get_model("billing", "Plan")
    BillingSettings = apps.get_model("billing", "BillingSettings")
    for slug, name, fee, rate, bots, markets, templates in PLANS:
        Plan.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "monthly_fee": Decimal(fee),
                "performance_rate": Decimal(rate),
                "max_bots": bots,
                "max_markets": markets,
                "allowed_templates": templates,
            },
        )
    BillingSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
