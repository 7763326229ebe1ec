"""Root URL configuration.

The admin is django-otp's ``OTPAdminSite`` (``accounts.admin_site``): staff reach it only after a second factor, and a
client (non-staff) gets no admin page at all.
"""

from django.contrib import admin
from django.urls import include, path

from accounts.admin_site import OperatorAdminSite
from accounts.ratelimits import admin_login_rate_limited
from accounts.views.language import language_switch
from ops import views as ops_views

admin.site.__class__ = OperatorAdminSite
admin.site.login = admin_login_rate_limited(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", ops_views.home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("portal.urls")),
    # Before Django's own: the switch also remembers the language for the user's emails.
    path("i18n/setlang/", language_switch, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
]
