"""The operator's admin second factor: a django-otp TOTP device whose key is sealed at rest.

django-otp's own ``TOTPDevice`` keeps its key in clear hex; this device keeps it sealed with the
project's envelope encryption (bound to the device row) and otherwise verifies exactly like it:
tolerance of one step, no token reused (``last_t``), throttling after failures.
"""

from __future__ import annotations

import base64
import time

from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from tradingsvc.lib.crypto import open_sealed, seal, settings_keyring

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6


class OperatorTOTPDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """A staff member's authenticator app, required by the admin site (``OTPAdminSite``)."""

    key_sealed = models.TextField()
    tolerance = models.PositiveSmallIntegerField(default=1)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = "operator TOTP device"

    def _associated_data(self) -> str:
        return f"operator_totp_device={self.pk}|user={self.user_id}"

    def set_key(self, key: bytes) -> None:
        """Seal a raw key into a saved device."""
        self.key_sealed = seal(
            settings_keyring(), key.hex(), associated_data=self._associated_data()
        )

    def bin_key(self) -> bytes:
        hex_key = open_sealed(
            settings_keyring(), self.key_sealed, associated_data=self._associated_data()
        )
        return bytes.fromhex(hex_key.reveal())

    def base32_key(self) -> str:
        """The key as authenticator apps expect it (shown once at enrolment)."""
        return base64.b32encode(self.bin_key()).decode().rstrip("=")

    def get_throttle_factor(self) -> int:
        """Seconds doubled after each failure: 1, 2, 4, ... (django-otp's throttling)."""
        return 1

    def verify_token(self, token: object) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(str(token))
        except ValueError:
            self.throttle_increment(commit=True)
            return False
        totp = TOTP(self.bin_key(), TOTP_STEP_SECONDS, 0, TOTP_DIGITS, 0)
        totp.time = time.time()
        if totp.verify(value, self.tolerance, self.last_t + 1):
            self.last_t = totp.t()
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False
