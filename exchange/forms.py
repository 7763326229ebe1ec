"""Forms for connecting and rotating an exchange key; each error says what to do."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from exchange.models import ExchangeEnvironment


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
        offered = settings.EXCHANGE_CLIENT_ENVIRONMENTS
        self.fields["environment"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in ExchangeEnvironment.choices if value in offered
        ]


class ReplaceKeyForm(forms.Form):
    replacement = forms.IntegerField(label=_("Replace with key"))
