"""Audit actions in plain words for the client's audit trail."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

ACTION_TEXT = {
    "bot.created": _("Bot created"),
    "bot.running": _("Bot started"),
    "bot.paused": _("Bot paused"),
    "bot.stopped": _("Bot stopped"),
    "bot.error": _("Bot stopped by an error"),
    "bot.settings_changed": _("Bot settings changed"),
    "bot.loss_threshold_changed": _("Loss alert threshold changed"),
    "bot.peak_reset": _("Drawdown peak reset"),
    "auth.login": _("Signed in"),
    "auth.login_failed": _("Failed sign-in attempt"),
    "auth.logout": _("Signed out"),
    "auth.password_changed": _("Password changed"),
    "auth.unlocked": _("Sign-in lock lifted"),
    "mfa.totp_added": _("Authenticator app set up"),
    "mfa.totp_removed": _("Authenticator app removed"),
    "mfa.recovery_codes_added": _("Recovery codes created"),
    "mfa.recovery_codes_removed": _("Recovery codes removed"),
    "mfa.recovery_codes_reset": _("Recovery codes replaced"),
    "mfa.webauthn_added": _("Security key added"),
    "mfa.webauthn_removed": _("Security key removed"),
    "admin.added": _("Added by our operators"),
    "admin.changed": _("Changed by our operators"),
    "admin.deleted": _("Deleted by our operators"),
    "data.deletion_requested": _("Data erasure requested"),
    "data.erased": _("Data erased"),
    "data.exported": _("Data exported"),
    "invitation.accepted": _("Invitation accepted"),
    "invitation.created": _("Invitation sent"),
    "invitation.resent": _("Invitation sent again"),
    "invitation.revoked": _("Invitation withdrawn"),
    "key.added": _("Exchange key connected"),
    "key.deleted": _("Exchange key deleted"),
    "key.rotated": _("Exchange key rotated"),
    "key.validated": _("Exchange key checked"),
    "mfa.operator_enrolled": _("Operator two-factor set up"),
    "tenant.created": _("Account created"),
    "tenant.disabled": _("Account disabled"),
    "tenant.suspended": _("Account suspended (trading stopped)"),
    "intent.never_placed": _("Order confirmed never placed by our operators"),
    "tenant.enabled": _("Account enabled"),
    "kill_switch.engaged_tenant": _("Emergency stop engaged"),
    "kill_switch.released_tenant": _("Emergency stop released"),
    "kill_switch.engaged_bot": _("Bot stopped and its position closed"),
    "kill_switch.released_bot": _("Bot stop released"),
    "kill_switch.engaged_global": _("Trading halted by the operator"),
    "kill_switch.released_global": _("Trading resumed by the operator"),
}


@register.filter
def audit_text(action: str) -> str:
    """The action in words when we have them, else its code (still precise, just terse)."""
    return str(ACTION_TEXT.get(action, action))
