"""Admin for background runs: filter by status and task, search by task or correlation id."""

from django.contrib import admin

from ops.models import TaskRun
from tradingsvc.lib.admin import ReadOnlyAdmin


@admin.register(TaskRun)
class TaskRunAdmin(ReadOnlyAdmin):
    list_display = (
        "task_name",
        "status",
        "started_at",
        "duration_ms",
        "worker",
        "tenant_id",
        "bot_id",
        "redelivered",
    )
    list_filter = ("status", "task_name", "redelivered")
    search_fields = ("task_id", "task_name", "correlation_id", "tenant_id", "bot_id")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in TaskRun._meta.get_fields()]
