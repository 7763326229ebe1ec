"""Session housekeeping: expired sessions are deleted, not left to pile up in the table.

Django never deletes an expired database session by itself (``clearsessions`` must be run); a
session row holds allauth's flow state and the signed-in user's id, so an old backup or a read of
the table should find as few of them as possible. allauth's ``UserSession`` rows (address, user
agent) whose session is gone go with them.
"""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.utils import timezone


def session_purge_expired() -> int:
    """Delete expired sessions and the user-session records left without one; returns how many
    sessions were deleted."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    live = Session.objects.values("session_key")
    UserSession.objects.exclude(session_key__in=live).delete()
    return deleted
