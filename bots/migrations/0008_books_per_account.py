"""Fills, capital flows and equity belong to the exchange account, not to the API key."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def flows_and_fills_to_accounts(apps, schema_editor):
    """Each row takes its key's account; a copy that two keys of one account recorded is dropped."""
    BotFill = apps.get_model("bots", "BotFill")
    CapitalFlow = apps.get_model("bots", "CapitalFlow")
    for model, key in ((BotFill, "exec_id"), (CapitalFlow, "exchange_id")):
        seen = set()
        for row in model.objects.exclude(connection=None).select_related("connection"):
            account_id = row.connection.account_id
            if account_id is None:
                raise RuntimeError(f"{model.__name__} {row.pk}: its key has no exchange account")
            if (account_id, getattr(row, key)) in seen:
                row.delete()
                continue
            seen.add((account_id, getattr(row, key)))
            row.account_id = account_id
            row.save(update_fields=["account"])


class Migration(migrations.Migration):

    dependencies = [
        ("bots", "0007_kill_switch_enforcement"),
        ("exchange", "0004_exchange_account"),
    ]

    operations = [
        migrations.AddField(
            model_name="botfill",
            name="account",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="bot_fills", to="exchange.exchangeaccount"),
        ),
        migrations.AddField(
            model_name="capitalflow",
            name="account",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="capital_flows", to="exchange.exchangeaccount"),
        ),
        migrations.AddField(
            model_name="equitysnapshot",
            name="account",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="equity_snapshots", to="exchange.exchangeaccount"),
        ),
        migrations.AddField(
            model_name="capitalflow",
            name="recorded_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now, help_text="when we recorded it (our clock): whether a snapshot already holds it"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="capitalflow",
            name="at",
            field=models.DateTimeField(help_text="when the exchange booked it (its clock)"),
        ),
        migrations.AddField(
            model_name="botfill",
            name="kind",
            field=models.CharField(choices=[("trade", "Trade"), ("funding", "Funding")], default="trade", help_text="a funding settlement moves P&L (``realised_pnl``), never the position", max_length=8),
        ),
        migrations.RunPython(flows_and_fills_to_accounts, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="botfill", name="botfill_unique_connection_exec"),
        migrations.RemoveConstraint(model_name="capitalflow", name="capitalflow_unique_exchange_id"),
        migrations.RemoveField(model_name="botfill", name="connection"),
        migrations.RemoveField(model_name="capitalflow", name="connection"),
        migrations.AlterField(
            model_name="capitalflow",
            name="account",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="capital_flows", to="exchange.exchangeaccount"),
        ),
        migrations.AddIndex(
            model_name="capitalflow",
            index=models.Index(fields=["account", "at"], name="bots_capita_account_afb1cb_idx"),
        ),
        migrations.AddIndex(
            model_name="equitysnapshot",
            index=models.Index(fields=["account", "-at"], name="bots_equity_account_0589a3_idx"),
        ),
        migrations.AddConstraint(
            model_name="botfill",
            constraint=models.UniqueConstraint(condition=models.Q(("account__isnull", False)), fields=("account", "exec_id"), name="botfill_unique_account_exec"),
        ),
        migrations.AddConstraint(
            model_name="botfill",
            constraint=models.UniqueConstraint(condition=models.Q(("account__isnull", True)), fields=("exec_id",), name="botfill_unique_simulated_exec"),
        ),
        migrations.AddConstraint(
            model_name="capitalflow",
            constraint=models.UniqueConstraint(fields=("account", "exchange_id"), name="capitalflow_unique_account_exchange_id"),
        ),
    ]
