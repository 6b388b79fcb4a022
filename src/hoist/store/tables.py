"""Small accessors for the build-side tables: build cache, context checksums,
compressed-blob memo, uncompressed layer sizes, and
holds (images kept containers need)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from hoist.models.digest import Digest
from hoist.store.db import Database

STAT_KEY_LEN = 5  # (dev, ino, size, mtime_ns, ctime_ns)


class Tables:
    def __init__(self, db: Database) -> None:
        self.db = db

    def cache_get(self, key: str) -> tuple[Digest, str] | None:
        """The image a build-cache key points to (only if that image still exists)."""
        row = self.db.one(
            "SELECT c.image_id, c.components FROM build_cache c JOIN images i ON i.id = c.image_id"
            " WHERE c.key=?",
            (key,),
        )
        return (Digest.parse(row[0]), row[1]) if row else None

    def cache_put(self, key: str, image_id: Digest | str, components_json: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO build_cache(key, image_id, components, created)"
                " VALUES (?,?,?,?)",
                (key, str(image_id), components_json, time.time()),
            )

    def checksum_get(self, path: str, stat_key: tuple[int, ...]) -> str | None:
        """The memoised checksum of ``path`` if its stat key is unchanged."""
        _check_stat_key(stat_key)
        row = self.db.one(
            "SELECT checksum FROM context_checksums WHERE path=? AND dev=? AND ino=? AND size=?"
            " AND mtime_ns=? AND ctime_ns=?",
            (path, *stat_key),
        )
        return row[0] if row else None

    def checksum_put(self, path: str, stat_key: tuple[int, ...], checksum: str) -> None:
        _check_stat_key(stat_key)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO context_checksums(path, dev, ino, size, mtime_ns,"
                " ctime_ns, checksum) VALUES (?,?,?,?,?,?,?)",
                (path, *stat_key, checksum),
            )

    def checksums_under(self, prefix: str) -> dict[str, tuple[tuple[int, ...], str]]:
        """Every memoised ``path -> (stat_key, checksum)`` whose path starts with ``prefix``.

        One range query (paths compare as UTF-8 bytes, so ``[prefix, next(prefix))`` is
        exactly the paths that start with it). ``prefix`` must not be empty.
        """
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.db.query(
            "SELECT path, dev, ino, size, mtime_ns, ctime_ns, checksum FROM context_checksums"
            " WHERE path >= ? AND path < ?",
            (prefix, upper),
        )
        return {row[0]: (tuple(row[1:6]), row[6]) for row in rows}

    def checksum_put_many(self, rows: Iterable[tuple[str, tuple[int, ...], str]]) -> None:
        """Memoise many ``(path, stat_key, checksum)`` rows in one transaction."""
        values = []
        for path, stat_key, checksum in rows:
            _check_stat_key(stat_key)
            values.append((path, *stat_key, checksum))
        if not values:
            return
        with self.db.transaction() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO context_checksums(path, dev, ino, size, mtime_ns,"
                " ctime_ns, checksum) VALUES (?,?,?,?,?,?,?)",
                values,
            )

    def compressed_get(self, diff_id: Digest, codec: str) -> tuple[Digest, int] | None:
        row = self.db.one(
            "SELECT digest, size FROM compressed_blobs WHERE diff_id=? AND codec=?",
            (str(diff_id), codec),
        )
        return (Digest.parse(row[0]), row[1]) if row else None

    def compressed_put(self, diff_id: Digest, codec: str, digest: Digest, size: int) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO compressed_blobs(diff_id, codec, digest, size)"
                " VALUES (?,?,?,?)",
                (str(diff_id), codec, str(digest), size),
            )

    def diff_size_get(self, diff_id: Digest) -> int | None:
        row = self.db.one("SELECT size FROM diffs WHERE diff_id=?", (str(diff_id),))
        return row[0] if row else None

    def diff_size_put(self, diff_id: Digest, size: int) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO diffs(diff_id, size) VALUES (?,?)", (str(diff_id), size)
            )

    def hold_put(self, holder: str, image_id: Digest | str) -> None:
        """Keep ``image_id`` (and so its layers) from prune and rmi until released."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO holds(holder, image_id, created) VALUES (?,?,?)",
                (holder, str(image_id), time.time()),
            )

    def hold_delete(self, holder: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM holds WHERE holder=?", (holder,))

    def holds(self) -> list[tuple[str, str, float]]:
        """Every hold as ``(holder, image_id, created)``."""
        return [(r[0], r[1], r[2]) for r in self.db.query("SELECT * FROM holds ORDER BY holder")]

    def holders_of(self, image_id: Digest | str) -> list[str]:
        rows = self.db.query("SELECT holder FROM holds WHERE image_id=?", (str(image_id),))
        return [r[0] for r in rows]


def _check_stat_key(stat_key: tuple[int, ...]) -> None:
    if len(stat_key) != STAT_KEY_LEN:
        raise ValueError("stat key must be (dev, ino, size, mtime_ns, ctime_ns)")
