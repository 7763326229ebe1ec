"""``manage.py books_check``: recount every account (or one) from the exchange and compare."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone


class Command(BaseCommand):
    help = "Recount fills, positions and flows of each exchange account and compare with ours."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="one exchange account id")
        parser.add_argument("--days", type=int, default=7, help="how far back (default 7)")
        parser.add_argument("--no-alert", action="store_true", help="report only")

    def handle(self, *args: Any, **options: Any) -> None:
        from bots.selectors import accounts_in_use
        from bots.services.books import books_check
        from exchange.services.accounts import account_speaking_connection

        since = timezone.now() - timedelta(days=options["days"])
        ids = [options["account"]] if options["account"] else accounts_in_use(include_stopped=True)
        divergent = 0
        for account_id in ids:
            connection = account_speaking_connection(account_id)
            if connection is None:
                self.stdout.write(f"account {account_id}: no working key, not checked")
                continue
            check = books_check(connection=connection, since=since, alert=not options["no_alert"])
            divergent += check.divergent
            verdict = "DIVERGES" if check.divergent else "matches"
            figures = ", ".join(f"{k}={v}" for k, v in check.figures.items())
            self.stdout.write(f"account {account_id}: {verdict} ({figures})")
            for symbol, (ours, theirs) in check.positions.items():
                self.stdout.write(f"  {symbol}: ours {ours}, exchange {theirs}")
            for label in (
                "executions_missing",
                "executions_unknown",
                "fills_unapplied",
                "flows_missing",
                "flows_unknown",
            ):
                items = getattr(check, label)
                if items:
                    self.stdout.write(f"  {label}: {len(items)} {items[:10]}")
        self.stdout.write(f"{len(ids)} account(s), {divergent} diverging")
