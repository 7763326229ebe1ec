"""Creating a bot from a risk template and tuning it within the template's bounds.

Errors and risk warnings show before anything is saved ("Check" runs the same validation as
"Save"); saving a change that raises risk asks for the password again first (allauth's
reauthentication, which replays the form after it).
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.selectors import request_membership, tenant_object_or_404
from accounts.views.access import membership_required, owner_required, signed_in_user
from bots.forms import BotCreateForm, BotTuningForm
from bots.market import bots_readiness
from bots.models import Bot, RiskTemplate
from bots.services.tuning import (
    BotTuningError,
    TuningCheck,
    bot_create,
    bot_tuning_check,
    bot_tuning_update,
)


def _creates_live(request: HttpRequest) -> bool:
    """Creating a live bot is as sensitive as starting one: the password is asked again."""
    return request.method == "POST" and request.POST.get("mode") == Bot.Mode.LIVE


@require_http_methods(["GET", "POST"])
@membership_required
@reauthentication_required(enabled=_creates_live)
def bot_new(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if request.method == "POST":
        if not membership.can_change:
            raise PermissionDenied("Viewers can see everything but change nothing.")
        return _bot_new_post(request)
    form = BotCreateForm(tenant=membership.tenant, initial={"template": _default_template()})
    return _new_page(request, form)


def _default_template() -> RiskTemplate | None:
    return RiskTemplate.objects.filter(is_active=True, slug="conservative").first()


def _new_page(request: HttpRequest, form: BotCreateForm, status: int = 200) -> HttpResponse:
    context = {
        "membership": request_membership(request),
        "form": form,
        "templates": RiskTemplate.objects.filter(is_active=True),
    }
    return render(request, "portal/bot_new.html", context, status=status)


def _bot_new_post(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    form = BotCreateForm(request.POST, tenant=membership.tenant)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = bot_create(
                tenant=membership.tenant,
                template=data["template"],
                name=data["name"],
                symbol=data["symbol"],
                connection=data["connection"],
                mode=data["mode"],
                by=signed_in_user(request),
                request=request,
            )
        except BotTuningError as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(
                request,
                _("%(bot)s is ready. Check its settings, then start it.")
                % {"bot": result.bot.name},
            )
            return redirect("portal:bot_tuning", pk=result.bot.pk)
    return _new_page(request, form, status=400)


def _bot(request: HttpRequest, pk: int) -> Bot:
    membership = request_membership(request)
    bot: Bot = tenant_object_or_404(
        Bot.objects.select_related("template"), membership.tenant, pk=pk
    )
    return bot


def _tuning_page(
    request: HttpRequest,
    bot: Bot,
    form: BotTuningForm,
    check: TuningCheck | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = request_membership(request)
    if not membership.can_change:  # a viewer reads the settings; the inputs say they are fixed
        for field in form.fields.values():
            field.disabled = True
    context = {
        "membership": membership,
        "bot": bot,
        "form": form,
        "check": check,
        "readiness": bots_readiness([bot]).get(bot.pk),
    }
    return render(request, "portal/bot_tuning.html", context, status=status)


@require_GET
@membership_required
def bot_tuning(request: HttpRequest, pk: int) -> HttpResponse:
    bot = _bot(request, pk)
    return _tuning_page(request, bot, BotTuningForm(bot=bot))


def _checked(request: HttpRequest, bot: Bot) -> tuple[BotTuningForm, TuningCheck | None]:
    """The posted form and, when it is valid, what saving it would do."""
    form = BotTuningForm(request.POST, bot=bot)
    if not form.is_valid():
        return form, None
    try:
        return form, bot_tuning_check(
            bot=bot, limits=form.limits(), strategy_params=form.strategy_params()
        )
    except BotTuningError as exc:
        form.add_service_errors(exc.errors)
        return form, None


def _raises_risk(request: HttpRequest) -> bool:
    """Whether the posted settings raise the bot's risk: then the password is asked again."""
    match = request.resolver_match
    membership = getattr(request, "membership", None)
    if match is None or membership is None or "check" in request.POST:
        return False
    bot = Bot.objects.for_tenant(membership.tenant).select_related("template")
    found = bot.filter(pk=match.kwargs.get("pk")).first()
    if found is None:
        return False
    _form, check = _checked(request, found)
    return bool(check and check.raised_risk)


@require_http_methods(["POST"])
@owner_required
@reauthentication_required(enabled=_raises_risk)
def bot_tuning_save(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Check" shows errors and warnings; "Save" applies at the bot's next tick."""
    bot = _bot(request, pk)
    form, check = _checked(request, bot)
    if check is None:
        return _tuning_page(request, bot, form, status=400)
    if "check" in request.POST:
        return _tuning_page(request, bot, form, check)
    result = bot_tuning_update(
        bot=bot,
        by=signed_in_user(request),
        limits=form.limits(),
        strategy_params=form.strategy_params(),
        request=request,
    )
    messages.success(request, _("Settings saved: they apply at the next closed candle."))
    for warning in result.warnings:
        messages.warning(request, warning)
    return redirect("portal:bot_tuning", pk=bot.pk)
