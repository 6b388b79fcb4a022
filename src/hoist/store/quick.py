"""Read-only look-ups for the no-op build path, without opening the full store.

A rebuild where nothing changed must cost little more than Python's start-up:
a :class:`QuickReader` opens the metadata database read-only with the
standard library alone, once, and answers three questions (a build record,
where tags point, whether images exist). Any doubt (no database, a locked or
damaged one) is answered "don't know" (None / False), and the caller takes
the full path.

    with QuickReader(root) as reader:
        text = reader.build_record(key)
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from types import TracebackType

from hoist.store.location import DB_FILE


class QuickReader:
    """One read-only connection to the store's database, or none when it cannot be opened."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._conn = _connect(os.path.join(root, DB_FILE))

    def __enter__(self) -> QuickReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def build_record(self, key: str) -> str | None:
        """The components JSON stored under ``key`` in the build cache, or None."""
        return self._one("SELECT components FROM build_cache WHERE key=?", key)

    def tag_targets(self, names: Iterable[str]) -> dict[str, str | None]:
        """Where each full tag name (``docker.io/library/busybox:local``) points, or None."""
        return {n: self._one("SELECT image_id FROM tags WHERE name=?", n) for n in names}

    def images_exist(self, ids: Iterable[str]) -> bool:
        """Whether every image ID in ``ids`` is recorded in the store (False: don't know)."""
        unique = sorted(set(ids))
        marks = ",".join("?" * len(unique))
        found = self._one(f"SELECT count(*) FROM images WHERE id IN ({marks})", *unique)
        return found is not None and int(found) == len(unique)

    def _one(self, sql: str, *args: str) -> str | None:
        """The first column of the first row, or None (no row, no database, an error)."""
        if self._conn is None:
            return None
        try:
            row = self._conn.execute(sql, args).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None


def _connect(path: str) -> sqlite3.Connection | None:
    if not os.path.isfile(path):
        return None
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
