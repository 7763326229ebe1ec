"""Template context every client page needs: the tenant's emergency stop and any halt by our
operators, each read only if shown."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def emergency_stop(request: HttpRequest) -> dict[str, object]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    from bots.selectors import active_emergency_stop, active_operator_halt

    return {
        "emergency_stop": SimpleLazyObject(lambda: active_emergency_stop(membership.tenant)),
        "operator_halt": SimpleLazyObject(lambda: active_operator_halt(membership.tenant)),
    }
