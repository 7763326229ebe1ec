"""Every client page (``/app/...``) and the emailed emergency-stop link, named ``portal:<page>``.

Paths are the ones clients bookmarked before the pages moved here; a bot's tuning keeps ``settings/``."""

from django.urls import path

from portal.views import (
    account,
    activity,
    controls,
    dashboard,
    emergency,
    history,
    notifications,
    performance,
    tuning,
)

app_name = "portal"

urlpatterns = [
    path("emergency/<str:token>/", emergency.emergency_link_view, name="emergency_link"),
    path("app/", dashboard.dashboard, name="dashboard"),
    path("app/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("app/bots/new/", tuning.bot_new, name="bot_new"),
    path("app/bots/<int:pk>/settings/", tuning.bot_tuning, name="bot_tuning"),
    path("app/bots/<int:pk>/settings/save/", tuning.bot_tuning_save, name="bot_tuning_save"),
    path("app/bots/<int:pk>/<str:action>/", controls.bot_control, name="bot_control"),
    path("app/emergency-stop/", controls.emergency_stop, name="emergency_stop"),
    path(
        "app/emergency-stop/release/",
        controls.emergency_stop_release,
        name="emergency_stop_release",
    ),
    path("app/history/", history.history, name="history"),
    path("app/history/export.csv", history.history_csv, name="history_csv"),
    path("app/activity/", activity.activity, name="activity"),
    path("app/activity/audit/", account.audit, name="audit"),
    path("app/notifications/", notifications.notifications, name="notifications"),
    path("app/notifications/save/", notifications.notifications_save, name="notifications_save"),
    path("app/alerts/<int:pk>/dismiss/", notifications.alert_dismiss_view, name="alert_dismiss"),
    path("app/performance/", performance.performance_page, name="performance"),
    path("app/keys/", account.keys, name="keys"),
    path("app/keys/connect/", account.key_connect, name="key_connect"),
    path("app/keys/<int:pk>/validate/", account.key_validate, name="key_validate"),
    path("app/keys/<int:pk>/delete/", account.key_delete, name="key_delete"),
    path("app/keys/<int:pk>/replace/", account.key_replace, name="key_replace"),
    path("app/team/", account.team, name="team"),
    path("app/team/invite/", account.team_invite, name="team_invite"),
    path(
        "app/team/invitations/<int:pk>/revoke/",
        account.team_invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "app/team/invitations/<int:pk>/resend/",
        account.team_invitation_resend,
        name="invitation_resend",
    ),
    path("app/security/", account.security, name="security"),
    path("app/data/export/", account.data_export, name="data_export"),
    path("app/data/delete/", account.data_delete, name="data_delete"),
]
