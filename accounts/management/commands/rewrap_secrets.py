"""Re-wraps every stored secret under the active master key (run after adding a new first key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services.master_keys import master_key_rewrap_all
from tradingsvc.lib.crypto import settings_keyring


class Command(BaseCommand):
    help = (
        "Re-wrap all sealed secrets under the first key of TRADINGSVC_MASTER_KEYS. "
        "When it reports no value on an old key id, that key can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        active = settings_keyring().active.key_id
        report = master_key_rewrap_all()
        for kind, count in sorted(report.rewrapped.items()):
            self.stdout.write(f"re-wrapped {count} {kind}")
        for key_id, count in sorted(report.key_ids_in_use.items()):
            self.stdout.write(f"values on key '{key_id}': {count}")
        stale = {k: v for k, v in report.key_ids_in_use.items() if k != active}
        if stale:
            self.stdout.write(self.style.WARNING(f"values still on old keys: {stale}"))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"every value is on '{active}'; older keys can be removed")
            )
