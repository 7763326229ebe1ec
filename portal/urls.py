"""Every client page (``/app/...``) and the emailed emergency-stop link."""

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

urlpatterns = [
    path("emergency/<str:token>/", emergency.emergency_link_view, name="emergency_link"),
    path("app/", dashboard.dashboard, name="client_home"),
    path("app/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("app/bots/new/", tuning.bot_new, name="bot_new"),
    path("app/bots/<int:pk>/settings/", tuning.bot_settings, name="bot_settings"),
    path("app/bots/<int:pk>/settings/save/", tuning.bot_settings_save, name="bot_settings_save"),
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
    path("app/activity/audit/", account.client_audit, name="client_audit"),
    path("app/notifications/", notifications.notifications, name="notifications"),
    path("app/notifications/save/", notifications.notifications_save, name="notifications_save"),
    path("app/alerts/<int:pk>/dismiss/", notifications.alert_dismiss_view, name="alert_dismiss"),
    path("app/performance/", performance.performance_page, name="performance"),
    path("app/keys/", account.client_keys, name="client_keys"),
    path("app/keys/connect/", account.client_key_connect, name="client_key_connect"),
    path("app/keys/<int:pk>/validate/", account.client_key_validate, name="client_key_validate"),
    path("app/keys/<int:pk>/delete/", account.client_key_delete, name="client_key_delete"),
    path("app/keys/<int:pk>/replace/", account.client_key_replace, name="client_key_replace"),
    path("app/team/", account.client_team, name="client_team"),
    path("app/team/invite/", account.client_team_invite, name="client_team_invite"),
    path(
        "app/team/invitations/<int:pk>/revoke/",
        account.client_invitation_revoke,
        name="client_invitation_revoke",
    ),
    path(
        "app/team/invitations/<int:pk>/resend/",
        account.client_invitation_resend,
        name="client_invitation_resend",
    ),
    path("app/security/", account.client_security, name="client_security"),
    path("app/data/export/", account.client_data_export, name="client_data_export"),
    path("app/data/delete/", account.client_data_delete, name="client_data_delete"),
]
