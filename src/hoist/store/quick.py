"""Read-only look-ups for the no-op build path, without opening the full store.

A rebuild where nothing changed must cost little more than Python's start-up:
these functions open the metadata database read-only with the standard
library alone and answer three questions (a build record, where tags point,
whether images exist). Any doubt (no database, a locked or damaged one) is
answered "don't know" (None / False), and the caller takes the full path.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from hoist.store.location import DB_FILE


@contextlib.contextmanager
def _reader(root: Path) -> Iterator[sqlite3.Connection | None]:
    path = root / DB_FILE
    if not path.is_file():
        yield None
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        yield None
        return
    try:
        yield conn
    finally:
        conn.close()


def build_record(root: Path, key: str) -> str | None:
    """The components JSON stored under ``key`` in the build cache, or None."""
    with _reader(root) as conn:
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT components FROM build_cache WHERE key=?", (key,)).fetchone()
        except sqlite3.Error:
            return None
    return str(row[0]) if row else None


def tag_targets(root: Path, names: Iterable[str]) -> dict[str, str | None]:
    """Where each full tag name (``docker.io/library/busybox:local``) points, or None."""
    wanted = list(names)
    with _reader(root) as conn:
        if conn is None:
            return dict.fromkeys(wanted)
        try:
            return {n: _one(conn, "SELECT image_id FROM tags WHERE name=?", n) for n in wanted}
        except sqlite3.Error:
            return dict.fromkeys(wanted)


def images_exist(root: Path, ids: Iterable[str]) -> bool:
    """Whether every image ID in ``ids`` is recorded in the store."""
    unique = sorted(set(ids))
    with _reader(root) as conn:
        if conn is None:
            return False
        try:
            found = sum(
                _one(conn, "SELECT 1 FROM images WHERE id=?", i) is not None for i in unique
            )
        except sqlite3.Error:
            return False
    return found == len(unique)


def _one(conn: sqlite3.Connection, sql: str, arg: str) -> str | None:
    row = conn.execute(sql, (arg,)).fetchone()
    return str(row[0]) if row else None
