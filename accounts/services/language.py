"""The language a person reads: pages follow the language switch; emails follow the stored choice.

A page is rendered in the language of its request (Django's ``LocaleMiddleware`` and the switch's
cookie), but an email goes out from a task with no request, so the choice is also kept on the user
(``User.language``): set when they sign up, from the language their browser asked for, and each
time they use the language switch. Every email to a user is rendered inside
``translation.override(user_language(user))``, subject included.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from accounts.models import User


def language_supported(language: str) -> str:
    """``language`` as one of ``LANGUAGES``' codes ("pt-BR" -> "pt-br"), or "" when we lack it."""
    wanted = language.strip().lower().replace("_", "-")
    codes = {code.lower() for code, _name in settings.LANGUAGES}
    return wanted if wanted in codes else ""


def request_language(request: HttpRequest | None) -> str:
    """The language a request asked for (switch cookie, then the browser's Accept-Language)."""
    if request is None:
        return ""
    return language_supported(translation.get_language_from_request(request))


def user_language(language: str | None) -> str:
    """The language to write to someone in: their stored choice, else the site's default."""
    return language_supported(language or "") or settings.LANGUAGE_CODE


def user_language_set(*, user: User, language: str) -> bool:
    """Remember the language a user chose; True if it changed (an unknown language is ignored)."""
    chosen = language_supported(language)
    if not chosen or chosen == user.language:
        return False
    User.objects.filter(pk=user.pk).update(language=chosen)
    user.language = chosen
    return True
