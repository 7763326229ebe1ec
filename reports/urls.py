"""The client's performance page."""

from django.urls import path

from reports import views

urlpatterns = [
    path("app/performance/", views.performance_page, name="performance"),
]
