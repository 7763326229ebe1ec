"""SQLite persistence: every record is a JSON row, written in one transaction per request or tick.

The exchange keeps its working state in memory (matching needs it there) and marks what changed;
``flush`` writes the marked rows at the end of each request and each clock tick, so a restart finds
exactly what clients were told.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from exchange.simulator import records

TABLES = ("accounts", "api_keys", "orders", "executions", "positions", "closed_pnl", "tx_log")
KINDS: dict[str, type[Any]] = {
    "accounts": records.Account,
    "api_keys": records.ApiKey,
    "orders": records.Order,
    "executions": records.Execution,
    "positions": records.Position,
    "closed_pnl": records.ClosedPnl,
    "tx_log": records.TransactionLog,
}


class Store:
    """A thin write-behind layer over one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode a COMMIT is a write() to the log: once it returns, the transaction survives
        # the process being killed (it is in the OS page cache), which is the failure a simulator
        # meets. NORMAL only adds an fsync at each checkpoint, against an OS crash or power loss;
        # on a busy disk that fsync stalled the one event loop for milliseconds every few hundred
        # requests (bench/simulator_roundtrip.py's p99).
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        for table in TABLES:
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                "id TEXT PRIMARY KEY, uid INTEGER NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL)"
            )
        self._pending: dict[tuple[str, str], tuple[int, int, Any]] = {}
        self._meta: dict[str, str] = {}

    def put(self, table: str, key: str, uid: int, seq: int, obj: Any) -> None:
        """Mark a record for writing; the latest version wins."""
        self._pending[(table, key)] = (uid, seq, obj)

    def delete(self, table: str, key: str) -> None:
        """Remove a record now (and any unwritten version of it)."""
        self._pending.pop((table, key), None)
        self.db.execute(f"DELETE FROM {table} WHERE id = ?", (key,))  # noqa: S608 - table names

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def flush(self) -> None:
        """Write everything marked since the last flush in a single transaction."""
        if not self._pending and not self._meta:
            return
        pending, self._pending = self._pending, {}
        meta, self._meta = self._meta, {}
        rows: dict[str, list[tuple[str, int, int, str]]] = {}
        for (table, key), (uid, seq, obj) in pending.items():
            rows.setdefault(table, []).append((key, uid, seq, records.dump(obj)))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for table, values in rows.items():
                self.db.executemany(
                    f"INSERT OR REPLACE INTO {table} (id, uid, seq, data) VALUES (?, ?, ?, ?)",  # noqa: S608
                    values,
                )
            if meta:
                self.db.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items())
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def load_all(self, table: str) -> list[Any]:
        cls = KINDS[table]
        rows = self.db.execute(f"SELECT data FROM {table} ORDER BY seq, rowid")  # noqa: S608
        return [records.load(cls, r[0]) for r in rows]

    def find_key(self, api_key: str) -> tuple[records.ApiKey, records.Account] | None:
        """Look a key up on disk: the ``account`` command may add keys while the server runs."""
        row = self.db.execute("SELECT data FROM api_keys WHERE id = ?", (api_key,)).fetchone()
        if row is None:
            return None
        key = records.load(records.ApiKey, row[0])
        acc = self.db.execute("SELECT data FROM accounts WHERE id = ?", (str(key.uid),)).fetchone()
        if acc is None:
            return None
        return key, records.load(records.Account, acc[0])

    def max_uid(self) -> int:
        """Highest account uid on disk (the ``account`` command may have added one meanwhile)."""
        row = self.db.execute("SELECT MAX(uid) FROM accounts").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def reset(self) -> None:
        """Forget everything: accounts, orders, the clock position."""
        self.db.execute("BEGIN IMMEDIATE")
        for table in (*TABLES, "meta"):
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.flush()
        self.db.close()
