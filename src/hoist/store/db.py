"""The store's metadata database: SQLite in WAL mode, schema versioned.

Tables: ``images`` (id = config digest, manifest, parent, created, size),
``image_layers`` (position → diff_id and blob), ``tags``, ``diffs``
(uncompressed sizes), ``layers`` (unpacked layer dirs: state
incomplete/ready), ``build_cache``, ``context_checksums``,
``compressed_blobs`` ((diff_id, codec) → blob) and ``holds`` (an image a kept
container needs: neither prune nor rmi deletes it).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hoist.errors import StoreError

SCHEMA_VERSION = 3  # 2: holds; 3: layers.boot


class DatabaseDamaged(StoreError):
    """The metadata database cannot be read; ``hoist fsck --repair`` rebuilds it."""

    code = "store-database-damaged"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    parent TEXT,
    created TEXT,
    size INTEGER NOT NULL,
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS images_parent ON images(parent);
CREATE TABLE IF NOT EXISTS image_layers (
    image_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    diff_id TEXT NOT NULL,
    blob TEXT NOT NULL,
    PRIMARY KEY (image_id, position)
);
CREATE INDEX IF NOT EXISTS image_layers_diff ON image_layers(diff_id);
CREATE INDEX IF NOT EXISTS image_layers_blob ON image_layers(blob);
CREATE TABLE IF NOT EXISTS tags (
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS diffs (
    diff_id TEXT PRIMARY KEY,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS layers (
    diff_id TEXT PRIMARY KEY,
    dir TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('incomplete', 'ready')),
    owner_pid INTEGER,
    created REAL NOT NULL,
    boot TEXT
);
CREATE TABLE IF NOT EXISTS build_cache (
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    components TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS build_cache_image ON build_cache(image_id);
CREATE TABLE IF NOT EXISTS context_checksums (
    path TEXT PRIMARY KEY,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    checksum TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS compressed_blobs (
    diff_id TEXT NOT NULL,
    codec TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (diff_id, codec)
);
CREATE TABLE IF NOT EXISTS holds (
    holder TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    created REAL NOT NULL
);
"""


class Database:
    """One SQLite connection, shared by the threads of a process under a lock.

    Writes go through :meth:`transaction` (``BEGIN IMMEDIATE``), so two
    processes serialise on SQLite's own lock; ``busy_timeout`` makes them wait.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=OFF")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise DatabaseDamaged(
                f"opening store database {path}: {exc}",
                hint="run 'hoist fsck --repair' to rebuild it from index.json "
                "(the damaged file is kept beside it)",
            ) from exc
        except sqlite3.Error as exc:
            raise StoreError(f"opening store database {path}: {exc}") from exc

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"opening store database {self.path}: schema version {version} is newer "
                f"than this hoist understands ({SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            with self.transaction() as conn:
                conn.executescript_in_tx(_SCHEMA)
                _add_missing_columns(conn)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """A write transaction; committed on clean exit, rolled back otherwise.

        Raises:
            StoreError: SQLite failed (locked too long, disk full, damaged file).
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield _Tx(self._conn)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"updating store database {self.path}: {exc}") from exc

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only statement. Raises: StoreError."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"reading store database {self.path}: {exc}") from exc

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _add_missing_columns(tx: _Tx) -> None:
    """Columns newer than a table's ``CREATE`` in an older store (``IF NOT EXISTS`` kept it)."""
    columns = {row[1] for row in tx.execute("PRAGMA table_info(layers)").fetchall()}
    if "boot" not in columns:
        tx.execute("ALTER TABLE layers ADD COLUMN boot TEXT")


def set_aside(path: Path) -> Path:
    """Move a damaged database (and its WAL files) aside; return the new name.

    Raises:
        OSError: the files cannot be renamed.
    """
    backup = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    for suffix in ("-wal", "-shm", ""):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(backup.with_name(backup.name + suffix))
    return backup


class _Tx:
    """The connection as seen inside a transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._conn.executemany(sql, rows)

    def executescript_in_tx(self, script: str) -> None:
        # executescript() would COMMIT first; run statement by statement instead.
        for statement in script.split(";"):
            if statement.strip():
                self._conn.execute(statement)
