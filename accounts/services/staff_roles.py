"""Staff roles as Django groups, kept in step with the permissions every migration creates.

A staff member's powers in the admin come only from their group's permissions (Django's own
permission system): no one but the founders is a superuser.

- **operator**: every permission: sees and changes everything, runs every admin action.
- **support**: every ``view_*`` permission and nothing else: reads every admin page, runs no
  action (each action declares the permission it needs) and saves no form.
- **accountant**: added by the billing issue: billing admin and exports only. Add its entry to
  ``ROLES`` below with a predicate over the billing app's permissions; the sync does the rest.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import Group, Permission
from django.db import transaction

OPERATOR = "operator"
SUPPORT = "support"

# Role name -> which permissions it holds.
ROLES: dict[str, Callable[[Permission], bool]] = {
    OPERATOR: lambda permission: True,
    SUPPORT: lambda permission: permission.codename.startswith("view_"),
    # ACCOUNTANT: lambda permission: permission.content_type.app_label == "billing" ...
}


@transaction.atomic
def staff_roles_sync() -> dict[str, int]:
    """Create each role's group and give it exactly the permissions its predicate selects;
    returns how many each holds. Runs after every ``migrate`` (``accounts.apps``)."""
    permissions = list(Permission.objects.select_related("content_type"))
    held: dict[str, int] = {}
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        chosen = [p for p in permissions if grants(p)]
        group.permissions.set(chosen)
        held[name] = len(chosen)
    return held
