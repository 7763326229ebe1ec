"""ASGI entry point for daphne: HTTP through Django, websockets through Channels.

Websockets are wrapped in ``AllowedHostsOriginValidator(AuthMiddlewareStack(...))``: a page from
another origin cannot open a socket with the user's cookies, and consumers see ``scope["user"]``.
"""

from django.core.asgi import get_asgi_application

from tradingsvc.entrypoint import require_settings_module

require_settings_module()  # no fallback profile: see tradingsvc.entrypoint

# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from tradingsvc.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
