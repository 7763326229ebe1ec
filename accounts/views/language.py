"""The language switch: Django's ``set_language``, also remembered on the signed-in user."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts.models import User
from accounts.services.language import user_language_set


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the pages' language (cookie) and, when signed in, the language of their emails."""
    response = set_language(request)
    if isinstance(request.user, User):
        user_language_set(user=request.user, language=str(request.POST.get("language", "")))
    return response
