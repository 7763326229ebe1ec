"""Root URL configuration."""

from django.contrib import admin
from django.urls import path

from ops import views as ops_views

urlpatterns = [
    path("", ops_views.home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
