"""Process-lifetime exclusive locks: a PostgreSQL session advisory lock, or a file lock on SQLite.

Used to guarantee that exactly one beat scheduler runs per database, whichever host it starts on.
The PostgreSQL lock lives on its own connection (not Django's, which may be closed between tasks),
so it is held exactly as long as the holder's process and released by the server if it dies.
"""

from __future__ import annotations

import fcntl
import zlib
from pathlib import Path
from typing import Any, Protocol

import psycopg


class HeldLock(Protocol):
    """A lock that is held until :meth:`release` or process exit."""

    def release(self) -> None: ...


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` derived from a readable name."""
    crc = zlib.crc32(name.encode())
    return (crc << 31) ^ zlib.adler32(name.encode())


class PostgresAdvisoryLock:
    """Holds ``pg_advisory_lock(key)`` on a dedicated connection."""

    def __init__(self, conninfo: dict[str, Any], name: str) -> None:
        self.key = advisory_key(name)
        self._conn = psycopg.connect(**conninfo, autocommit=True)

    def try_acquire(self) -> bool:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def release(self) -> None:
        """Unlock and close the connection; safe to call more than once."""
        if self._conn.closed:
            return
        try:
            self._conn.execute("SELECT pg_advisory_unlock_all()")
        finally:
            self._conn.close()


class FileLock:
    """Holds an exclusive ``flock`` on a file (for one-host setups such as the SQLite demo)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a+")

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        """Unlock and close the file; safe to call more than once."""
        if self._file.closed:
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        finally:
            self._file.close()


def postgres_conninfo(database: dict[str, Any]) -> dict[str, Any]:
    """psycopg connection arguments from a Django ``DATABASES`` entry."""
    info = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    return {k: v for k, v in info.items() if v is not None}
