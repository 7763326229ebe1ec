"""Prints the current TOTP code of a demo user, so a newcomer needs no authenticator app.

Refuses outside the demo profile: on a real deployment nobody should be able to read codes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from accounts.models import OperatorTOTPDevice, User


class Command(BaseCommand):
    help = "Demo only: print the current TOTP code of a user (operator admin device or client 2FA)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        if settings.SETTINGS_MODULE != "tradingsvc.settings.demo":
            raise CommandError("demo_totp works only with the demo profile.")
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user {email}.")
        device = OperatorTOTPDevice.objects.filter(user=user).first()
        if device is not None:
            self.stdout.write(f"{totp(device.bin_key()):06d}")
            return
        from accounts.mfa import client_totp_code

        code = client_totp_code(user)
        if code is None:
            raise CommandError(f"{email} has no TOTP set up yet.")
        self.stdout.write(code)
