"""Start, pause, resume, stop a bot; the tenant's emergency stop and its release.

Pausing is one step. Stopping a bot and the emergency stop need ``confirmed=yes``: the page
script sets it after a short countdown the client can still cancel; without the script the
server answers with a confirmation page instead of acting.
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import request_membership, tenant_object_or_404
from accounts.views.access import owner_required, redirect_back, signed_in_user
from bots.models import Bot, KillSwitch
from bots.selectors import active_emergency_stop
from bots.services.lifecycle import TransitionRefused, bot_transition
from bots.services.protection import kill_switch_engage, kill_switch_release

ACTIONS = {
    "start": Bot.State.RUNNING,
    "resume": Bot.State.RUNNING,
    "pause": Bot.State.PAUSED,
    "stop": Bot.State.STOPPED,
}
CONFIRMED = "yes"


def _back(request: HttpRequest) -> HttpResponse:
    return redirect_back(request, "portal:dashboard")


def _done_message(action: str, bot: Bot) -> str:
    texts = {
        "start": _("%(bot)s started: it acts at the next closed candle."),
        "resume": _("%(bot)s resumed: it acts at the next closed candle."),
        "pause": _("%(bot)s paused: no new orders; open positions keep their stop-loss."),
        "stop": _("%(bot)s stopped."),
    }
    return texts[action] % {"bot": bot.name}


def _starts_live(request: HttpRequest) -> bool:
    """Starting or resuming a live bot trades real money: the password is asked again."""
    match, membership = request.resolver_match, getattr(request, "membership", None)
    if (
        match is None
        or membership is None
        or ACTIONS.get(str(match.kwargs.get("action"))) != Bot.State.RUNNING
    ):
        return False
    bot = Bot.objects.for_tenant(membership.tenant).filter(pk=match.kwargs.get("pk")).first()
    return bot is not None and bot.mode == Bot.Mode.LIVE


@require_POST
@owner_required
@reauthentication_required(enabled=_starts_live)
def bot_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    membership = request_membership(request)
    bot = tenant_object_or_404(Bot.objects.all(), membership.tenant, pk=pk)
    if action not in ACTIONS:
        return redirect("portal:dashboard")
    flatten = request.POST.get("flatten") == "on"
    if action == "stop" and request.POST.get("confirmed") != CONFIRMED:
        return render(
            request, "portal/confirm_stop.html", {"bot": bot, "flatten": flatten}, status=200
        )
    try:
        if action == "stop" and flatten:
            kill_switch_engage(
                scope=KillSwitch.Scope.BOT,
                bot=bot,
                by=signed_in_user(request),
                flatten=True,
                reason=_("Stopped and closed by the client."),
                request=request,
            )
        bot_transition(bot=bot, to=ACTIONS[action], by=signed_in_user(request), request=request)
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _done_message(action, bot))
    return _back(request)


@require_POST
@owner_required
def emergency_stop(request: HttpRequest) -> HttpResponse:
    """Stop every bot of the tenant at once: no new orders, open orders cancelled, and (when
    asked) every position closed reduce-only."""
    membership = request_membership(request)
    flatten = request.POST.get("flatten") == "on"
    if request.POST.get("confirmed") != CONFIRMED:
        return render(request, "portal/confirm_emergency.html", {"flatten": flatten})
    switch = kill_switch_engage(
        scope=KillSwitch.Scope.TENANT,
        tenant=membership.tenant,
        by=signed_in_user(request),
        flatten=flatten,
        reason=_("Emergency stop from the dashboard."),
        request=request,
    )
    if switch.flatten:
        messages.warning(request, _("Emergency stop engaged: orders cancelled, positions closing."))
    else:
        messages.warning(request, _("Emergency stop engaged: no bot sends new orders."))
    return _back(request)


@require_POST
@owner_required
def emergency_stop_release(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    switch = active_emergency_stop(membership.tenant)
    if switch is not None:
        kill_switch_release(switch=switch, by=signed_in_user(request), request=request)
        messages.success(request, _("Emergency stop released. Paused bots stay paused."))
    return _back(request)
