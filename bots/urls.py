"""The client web app's bot pages (``/app/...``)."""

from django.urls import path

from bots.views import activity, controls, dashboard, history, notifications, settings

urlpatterns = [
    path("app/", dashboard.dashboard, name="client_home"),
    path("app/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("app/bots/new/", settings.bot_new, name="bot_new"),
    path("app/bots/<int:pk>/settings/", settings.bot_settings, name="bot_settings"),
    path("app/bots/<int:pk>/settings/save/", settings.bot_settings_save, name="bot_settings_save"),
    path(
        "app/bots/<int:pk>/<str:action>/",
        controls.bot_control,
        name="bot_control",
    ),
    path("app/emergency-stop/", controls.emergency_stop, name="emergency_stop"),
    path(
        "app/emergency-stop/release/",
        controls.emergency_stop_release,
        name="emergency_stop_release",
    ),
    path("app/history/", history.history, name="history"),
    path("app/history/export.csv", history.history_csv, name="history_csv"),
    path("app/activity/", activity.activity, name="activity"),
    path("app/notifications/", notifications.notifications, name="notifications"),
    path("app/notifications/save/", notifications.notifications_save, name="notifications_save"),
    path("app/alerts/<int:pk>/dismiss/", notifications.alert_dismiss_view, name="alert_dismiss"),
]
