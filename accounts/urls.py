"""Client account URLs (``/app/...``) and invitation links (``/invite/<token>/``)."""

from django.urls import path

from accounts.views import client, emergency, invitations

urlpatterns = [
    path("invite/<str:token>/", invitations.invitation_accept_view, name="invitation_accept"),
    path("emergency/<str:token>/", emergency.emergency_link_view, name="emergency_link"),
    path("app/keys/", client.client_keys, name="client_keys"),
    path("app/keys/connect/", client.client_key_connect, name="client_key_connect"),
    path("app/keys/<int:pk>/validate/", client.client_key_validate, name="client_key_validate"),
    path("app/keys/<int:pk>/delete/", client.client_key_delete, name="client_key_delete"),
    path("app/keys/<int:pk>/replace/", client.client_key_replace, name="client_key_replace"),
    path("app/team/", client.client_team, name="client_team"),
    path("app/team/invite/", client.client_team_invite, name="client_team_invite"),
    path(
        "app/team/invitations/<int:pk>/revoke/",
        client.client_invitation_revoke,
        name="client_invitation_revoke",
    ),
    path(
        "app/team/invitations/<int:pk>/resend/",
        client.client_invitation_resend,
        name="client_invitation_resend",
    ),
    path("app/activity/audit/", client.client_audit, name="client_audit"),
    path("app/security/", client.client_security, name="client_security"),
    path("app/data/export/", client.client_data_export, name="client_data_export"),
    path("app/data/delete/", client.client_data_delete, name="client_data_delete"),
]
