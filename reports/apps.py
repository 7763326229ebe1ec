"""Performance: equity and trade rollups, and the metrics the performance page shows."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"
