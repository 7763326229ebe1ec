"""The operator's admin site: django-otp's ``OTPAdminSite``, with a one-step login for one device."""

from __future__ import annotations

from typing import Any

from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class OperatorAdminAuthenticationForm(OTPAdminAuthenticationForm):  # type: ignore[misc]
    """Uses the operator's only confirmed device when none is chosen.

    django-otp asks for an explicit device (so a wrong guess does not throttle every device); an
    operator has exactly one authenticator, so the choice is made for them and the login is one
    form: email, password, code.
    """

    def _chosen_device(self, user: Any) -> Any:
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class OperatorAdminSite(OTPAdminSite):  # type: ignore[misc]
    login_form = OperatorAdminAuthenticationForm
    site_header = "tradingsvc operator"
    site_title = "tradingsvc operator"


def admin_actions_fail_closed(site: Any) -> int:
    """Every admin action without declared ``permissions`` (the libraries' ones: allauth, axes,
    celery beat) is made to need the model's change permission; returns how many were.

    Django lets anyone who can see a change list run an action that declares no permission; ours
    all declare one (a test checks), and this makes the others fail closed rather than open to
    a view-only (support) staff member.
    """
    closed = 0
    for model_admin in site._registry.values():
        for action in model_admin.actions or ():
            func = getattr(type(model_admin), action) if isinstance(action, str) else action
            func = getattr(func, "__func__", func)
            if not getattr(func, "allowed_permissions", None):
                func.allowed_permissions = ("change",)
                closed += 1
    for _name, func in site.actions:
        if not getattr(func, "allowed_permissions", None):
            func.allowed_permissions = ("delete",)
            closed += 1
    return closed
