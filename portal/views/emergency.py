"""The emailed emergency-stop link: works without signing in, once, for a few minutes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.services.lockout import EmergencyLinkInvalid, emergency_link_claim, emergency_link_get


@require_http_methods(["GET", "POST"])
def emergency_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (mail scanners open links; only the button uses it); POST engages the
    tenant's emergency stop, as the dashboard's button does."""
    from bots.models import KillSwitch
    from bots.services.protection import kill_switch_engage

    try:
        link = emergency_link_get(token=token)
        if request.method == "GET":
            return render(request, "portal/emergency_link.html", {"tenant": link.tenant})
        link = emergency_link_claim(token=token, request=request)
    except EmergencyLinkInvalid:
        return render(request, "portal/emergency_link_invalid.html", status=404)
    flatten = request.POST.get("flatten") == "on"
    kill_switch_engage(
        scope=KillSwitch.Scope.TENANT,
        tenant=link.tenant,
        by=link.user,
        flatten=flatten,
        reason="Emergency stop from the emailed link (account locked).",
        request=request,
    )
    return render(
        request, "portal/emergency_link_done.html", {"tenant": link.tenant, "flatten": flatten}
    )
