"""Loads the demo's data: an operator login with its admin second factor (printed) and, as later
issues land, demo tenants and bots."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services.operator_otp import operator_totp_enrol

DEMO_OPERATOR_EMAIL = "operator@demo.local"


class Command(BaseCommand):
    help = (
        "Create or refresh the demo operator (new password and TOTP key each run); print the login."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--with-clients",
            action="store_true",
            help="also seed three client tenants with live bots (needs the simulator running)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(
            email=DEMO_OPERATOR_EMAIL, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        enrolment = operator_totp_enrol(user=user)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "=" * 72,
                    "  Operator login (Django admin): http://127.0.0.1:8000/admin/",
                    f"    email:       {DEMO_OPERATOR_EMAIL}",
                    f"    password:    {password}",
                    f"    TOTP secret: {enrolment.base32_secret}   (add it to an authenticator app)",
                    "    or get the current 6-digit code with:",
                    f"      .venv/bin/python manage.py demo_totp {DEMO_OPERATOR_EMAIL}",
                    "=" * 72,
                    "",
                ]
            )
        )
        if options["with_clients"]:
            from demo.demo_data import demo_clients_seed

            lines = ["  Client logins (the web app: http://127.0.0.1:8000/accounts/login/):"]
            for client in demo_clients_seed():
                lines += [
                    f"    {client.tenant} ({client.template} template)",
                    f"      email: {client.email}   password: {client.password}",
                    f"      TOTP secret: {client.totp_secret}   or: .venv/bin/python manage.py demo_totp {client.email}",
                ]
            self.stdout.write("\n".join([*lines, "=" * 72, ""]))
