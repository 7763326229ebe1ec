"""Invitation links (``/invite/<token>/``); the client's account pages are the portal's."""

from django.urls import path

from accounts.views import invitations

app_name = "accounts"

urlpatterns = [
    path("invite/<str:token>/", invitations.invitation_accept_view, name="invitation_accept"),
]
