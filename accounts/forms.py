"""Forms of the accounts pages; each error says what to do."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class InvitationAcceptForm(forms.Form):
    """Signup from an invitation: the invited address, and a password typed twice."""

    email = forms.EmailField(label=_("Email"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput, strip=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error(
                "password2", _("The two passwords differ: type the same password twice.")
            )
        return data


class ViewerInviteForm(forms.Form):
    email = forms.EmailField(label=_("Viewer's email"))


class ExchangeKeyForm(forms.Form):
    """Connect a Bybit API key; the secret field is never filled back in."""

    environment = forms.ChoiceField(label=_("Where the key was created"), choices=[])
    label = forms.CharField(label=_("Name (optional)"), required=False, max_length=100)
    api_key = forms.CharField(label=_("API key"), max_length=64)
    api_secret = forms.CharField(
        label=_("API secret"),
        max_length=64,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        from exchange.models import ExchangeEnvironment

        offered = settings.EXCHANGE_CLIENT_ENVIRONMENTS
        self.fields["environment"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in ExchangeEnvironment.choices if value in offered
        ]


class ReplaceKeyForm(forms.Form):
    replacement = forms.IntegerField(label=_("Replace with key"))
