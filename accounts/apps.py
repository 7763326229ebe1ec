"""Clients, tenants, memberships and authentication."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_staff_roles(sender: Any, **kwargs: Any) -> None:
    from accounts.services.staff_roles import staff_roles_sync

    staff_roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts import signals  # noqa: F401  (audit hooks)
        from accounts.admin_site import admin_actions_fail_closed

        # The admin app (earlier in INSTALLED_APPS) has registered every app's admin by now.
        admin_actions_fail_closed(admin.site)

        # After every app's migrations (and their permissions), whichever app sent the signal.
        post_migrate.connect(_sync_staff_roles, dispatch_uid="accounts.staff_roles")
