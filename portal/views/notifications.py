"""Alerts (kept until dismissed) and how the tenant wants them delivered."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import WebhookAttempt
from accounts.selectors import request_membership, tenant_object_or_404
from accounts.views.access import (
    membership_required,
    owner_required,
    password_recently_confirmed,
    reauthentication_url,
    redirect_back,
    signed_in_user,
)
from bots.forms import NotificationSettingsForm
from bots.models import Alert, NotificationSettings
from bots.selectors import open_alerts, tenant_bots
from bots.services.alerts import alert_dismiss
from bots.services.notify import notification_settings_save
from bots.services.tuning import bot_loss_thresholds_save


def _page(
    request: HttpRequest, form: NotificationSettingsForm | None = None, status: int = 200
) -> HttpResponse:
    membership = request_membership(request)
    tenant = membership.tenant
    current = NotificationSettings.objects.for_tenant(tenant).first()
    if form is None:
        form = NotificationSettingsForm(
            bots=list(tenant_bots(tenant)),
            initial={
                "email_enabled": current.email_enabled if current else True,
                "webhook_url": current.webhook_url if current else "",
            },
        )
    dismissed = Alert.objects.for_tenant(tenant).exclude(dismissed_at=None).select_related("bot")
    context = {
        "membership": membership,
        "alerts": open_alerts(tenant),
        "dismissed": Paginator(dismissed, 20).get_page(request.GET.get("page")),
        "form": form,
        "has_webhook_secret": bool(current and current.webhook_secret_sealed),
        "webhook_attempts": WebhookAttempt.objects.for_tenant(tenant)[:20],
    }
    return render(request, "portal/notifications.html", context, status=status)


@require_GET
@membership_required
def notifications(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@owner_required
def notifications_save(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    current = NotificationSettings.objects.for_tenant(membership.tenant).first()
    posted_url = request.POST.get("webhook_url", "").strip()
    webhook_changes = posted_url != (current.webhook_url if current else "") or bool(
        request.POST.get("webhook_secret")
    )
    if webhook_changes and not password_recently_confirmed(request):
        # Where alerts (and their secret) go is as sensitive as a key: the password first, and
        # the form (it may hold a secret) is dropped rather than kept for a replay.
        messages.info(
            request, _("Confirm your password first, then send the form again: nothing was saved.")
        )
        return redirect(reauthentication_url(request, next_url=reverse("portal:notifications")))
    form = NotificationSettingsForm(request.POST, bots=list(tenant_bots(membership.tenant)))
    if (
        form.is_valid()
        and form.cleaned_data["webhook_url"]
        and not (form.cleaned_data["webhook_secret"] or (current and current.webhook_secret_sealed))
    ):
        form.add_error("webhook_secret", _("Set a signing secret so you can verify our calls."))
    if not form.is_valid():
        return _page(request, form, status=400)
    notification_settings_save(
        tenant_id=membership.tenant.pk,
        email_enabled=form.cleaned_data["email_enabled"],
        webhook_url=form.cleaned_data["webhook_url"],
        webhook_secret=form.cleaned_data["webhook_secret"] or None,
    )
    bot_loss_thresholds_save(
        tenant=membership.tenant,
        thresholds=form.thresholds(),
        by=signed_in_user(request),
        request=request,
    )
    messages.success(request, _("Notification settings saved."))
    return redirect("portal:notifications")


@require_POST
@owner_required
def alert_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    alert = tenant_object_or_404(Alert.objects.all(), membership.tenant, pk=pk)
    alert_dismiss(alert=alert, by=signed_in_user(request))
    messages.success(request, _("Alert dismissed."))
    return redirect_back(request, "portal:notifications")
