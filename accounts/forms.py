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
