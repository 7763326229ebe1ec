"""Thin tasks for accounts: the session purge."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.purge_expired_sessions")
def purge_expired_sessions() -> int:
    """Beat, hourly: expired sessions leave the database."""
    from accounts.services.sessions import session_purge_expired

    return session_purge_expired()
