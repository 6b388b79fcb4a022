"""Content checksums of selected COPY/ADD sources, memoised by a stat cache.

A checksum is a sha256 hex digest that changes iff the content, mode, file
type, link target or the set of names of a source changes — never its mtime:

* file: ``sha256(record(type, mode, size-independent content digest))``;
* symlink: its target (verbatim);
* directory: its own type and mode, then for each visible child in byte order
  its name and its checksum (so a rename, an addition or a removal shows);
* FIFO/device: type, mode and device number.

uid/gid are part of a record only for trees whose ownership is kept on copy
(``SourceTree.keep_owner``: ``COPY --from``); the context's ownership is reset
to 0:0 on copy so it must not cause a cache miss. Ownership *flags*
(``--chown``/``--chmod``) are added to the cache key by the caller.

Reading is the expensive part, so the content digest of each regular file is
memoised in a :class:`ChecksumCache` under the file's host path and its
:class:`StatKey` ``(device, inode, size, mtime_ns, ctime_ns)``: an unchanged
file is stat'ed, never read again. Directories are always re-listed (a
directory's own stat says nothing about its children's content).

A source is checksummed between ``cache.load(root)`` and ``cache.flush()``: the
store-backed cache fetches the memo of the whole tree in one query and writes
the new digests in one transaction, not one statement per file (a 20,000-file
context spent seconds in SQLite otherwise).
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterable
from typing import Protocol

import msgspec

from hoist.context.select import (
    Entry,
    Selected,
    SourceTree,
    list_entries,
    open_file,
    open_selected,
    open_selected_dir,
    open_subdir,
)
from hoist.errors import ContextError

__all__ = [
    "ChecksumCache",
    "MemoryChecksumCache",
    "StatKey",
    "StoreChecksumCache",
    "selection_checksum",
    "source_checksum",
    "source_digests",
]

_CHUNK = 1 << 20


class StatKey(msgspec.Struct, frozen=True):
    """What must be unchanged for a memoised content digest to be trusted."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> StatKey:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ChecksumCache(Protocol):
    """Memo of file content digests: ``path`` is the file's host path."""

    def load(self, root: str) -> None:
        """Many paths below the host directory ``root`` are about to be asked for."""

    def get(self, path: str, key: StatKey) -> str | None: ...

    def put(self, path: str, key: StatKey, digest: str) -> None: ...

    def flush(self) -> None:
        """Make the puts so far last (a store writes them in one transaction)."""


class MemoryChecksumCache:
    """An in-process :class:`ChecksumCache` (tests; builds without a store)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[StatKey, str]] = {}

    def load(self, root: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def get(self, path: str, key: StatKey) -> str | None:
        item = self._items.get(path)
        return item[1] if item is not None and item[0] == key else None

    def put(self, path: str, key: StatKey, digest: str) -> None:
        self._items[path] = (key, digest)

    def __len__(self) -> int:
        return len(self._items)


_Row = tuple[tuple[int, ...], str]


class _StoreLike(Protocol):
    def checksum_get(self, path: str, stat_key: tuple[int, ...]) -> str | None: ...

    def checksums_under(self, prefix: str) -> dict[str, _Row]: ...

    def checksum_put_many(self, rows: Iterable[tuple[str, tuple[int, ...], str]]) -> None: ...


class StoreChecksumCache:
    """:class:`ChecksumCache` over the store's SQLite checksum table.

    The stat key is stored as the tuple ``(device, inode, size, mtime_ns, ctime_ns)``.
    :meth:`load` reads every row below a root in one query; :meth:`put` keeps the
    row in memory until :meth:`flush` writes all of them in one transaction (a
    crash before it only loses memo rows, which are recomputed). Paths that are
    not valid UTF-8 (SQLite TEXT) are memoised in memory only. Thread-safe:
    stages running in parallel share one cache.
    """

    def __init__(self, store: _StoreLike) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._loaded: set[str] = set()
        self._rows: dict[str, _Row] = {}
        self._pending: dict[str, _Row] = {}

    def load(self, root: str) -> None:
        prefix = root.rstrip("/") + "/"
        with self._lock:
            if prefix in self._loaded or not _storable(prefix):
                return
            rows = self._store.checksums_under(prefix)
            self._rows = {**rows, **self._rows}
            self._loaded.add(prefix)

    def get(self, path: str, key: StatKey) -> str | None:
        stat_key = _as_tuple(key)
        with self._lock:
            row = self._pending.get(path) or self._rows.get(path)
            if row is None and not self._covered(path) and _storable(path):
                digest = self._store.checksum_get(path, stat_key)
                return digest
        return row[1] if row is not None and row[0] == stat_key else None

    def put(self, path: str, key: StatKey, digest: str) -> None:
        with self._lock:
            self._pending[path] = (_as_tuple(key), digest)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._rows.update(pending)
            rows = [(p, k, d) for p, (k, d) in pending.items() if _storable(p)]
            self._store.checksum_put_many(rows)

    def _covered(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self._loaded)


def _storable(path: str) -> bool:
    """Whether SQLite can hold ``path`` (a non-UTF-8 file name decodes to surrogates)."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return False
    return True


def _as_tuple(key: StatKey) -> tuple[int, int, int, int, int]:
    return (key.device, key.inode, key.size, key.mtime_ns, key.ctime_ns)


# --- checksums -------------------------------------------------------------------------------


def selection_checksum(selected: Iterable[Selected], cache: ChecksumCache) -> str:
    """Return one digest over several sources: each one's destination name and checksum.

    This is what a COPY/ADD cache key needs: it changes when a wildcard
    matches another set of names, even with the same contents.

    Raises:
        ContextError: a source cannot be read.
    """
    h = hashlib.sha256()
    for sel in selected:
        _feed(h, "source", sel.parents, sel.name, source_checksum(sel, cache))
    return h.hexdigest()


def source_checksum(sel: Selected, cache: ChecksumCache) -> str:
    """Return the content checksum of one selected source (hex sha256).

    Raises:
        ContextError: a file is unreadable (naming it) or changed while read.
    """
    return _source(sel, cache, None)


def source_digests(sel: Selected, cache: ChecksumCache) -> tuple[str, dict[str, str]]:
    """Like :func:`source_checksum`, plus the checksum of every entry it covers.

    The dict maps in-root paths (``"src/app.py"``; ``"."`` for the root) to
    their checksums, so a cache miss can name the files that changed. Same
    cost as :func:`source_checksum` (one walk), but memory grows with the tree.

    Raises:
        ContextError: as :func:`source_checksum`.
    """
    entries: dict[str, str] = {}
    return _source(sel, cache, entries), entries


def _source(sel: Selected, cache: ChecksumCache, record: dict[str, str] | None) -> str:
    cache.load(sel.tree.root.path)
    try:
        return _walk_source(sel, cache, record)
    finally:
        cache.flush()


def _walk_source(sel: Selected, cache: ChecksumCache, record: dict[str, str] | None) -> str:
    if sel.is_dir:
        fd = open_selected_dir(sel)
        try:
            digest = _dir_checksum(sel.tree, fd, os.fstat(fd), sel.path, "", cache, record)
        finally:
            os.close(fd)
    else:
        dirfd, entry = open_selected(sel)
        try:
            digest = _entry_checksum(sel.tree, dirfd, entry, "", cache, record)
        finally:
            os.close(dirfd)
    if record is not None:
        record[sel.path] = digest
    return digest


def _entry_checksum(
    tree: SourceTree,
    dirfd: int,
    entry: Entry,
    rel: str,
    cache: ChecksumCache,
    record: dict[str, str] | None,
) -> str:
    st = entry.st
    if stat.S_ISDIR(st.st_mode):
        fd = open_subdir(tree, dirfd, entry)
        try:
            return _dir_checksum(tree, fd, st, entry.path, rel, cache, record)
        finally:
            os.close(fd)
    if stat.S_ISREG(st.st_mode):
        content = _content_digest(tree, dirfd, entry, cache)
        return _record(tree, st, "file", content)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(entry.name, dir_fd=dirfd)
        return _record(tree, st, "symlink", target)
    return _record(tree, st, "special", str(st.st_rdev))


def _dir_checksum(
    tree: SourceTree,
    fd: int,
    st: os.stat_result,
    path: str,
    rel: str,
    cache: ChecksumCache,
    record: dict[str, str] | None,
) -> str:
    h = hashlib.sha256()
    _feed(h, _record(tree, st, "dir", ""))
    for child in list_entries(tree, fd, path, rel):
        child_rel = f"{rel}/{child.name}" if rel else child.name
        digest = _entry_checksum(tree, fd, child, child_rel, cache, record)
        if record is not None:
            record[child.path] = digest
        _feed(h, child.name, digest)
    return h.hexdigest()


def _record(tree: SourceTree, st: os.stat_result, kind: str, detail: str) -> str:
    owner = f"{st.st_uid}:{st.st_gid}" if tree.keep_owner else ""
    h = hashlib.sha256()
    _feed(h, kind, f"{stat.S_IMODE(st.st_mode):o}", owner, detail)
    return h.hexdigest()


def _feed(h: hashlib._Hash, *fields: str) -> None:
    # Length-prefixed fields: no separator inside a name can forge another record.
    for text in fields:
        data = os.fsencode(text)
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)


def _content_digest(tree: SourceTree, dirfd: int, entry: Entry, cache: ChecksumCache) -> str:
    host_path = os.path.join(tree.root.path, entry.path)
    key = StatKey.of(entry.st)
    cached = cache.get(host_path, key)
    if cached is not None:
        return cached
    digest = hash_file(tree, dirfd, entry)
    cache.put(host_path, key, digest)
    return digest


def hash_file(tree: SourceTree, dirfd: int, entry: Entry) -> str:
    """Read a regular file once and return the sha256 hex digest of its content.

    Raises:
        ContextError: it cannot be read (naming it).
    """
    fd = open_file(tree, dirfd, entry)
    h = hashlib.sha256()
    try:
        while chunk := os.read(fd, _CHUNK):
            h.update(chunk)
    except OSError as exc:
        raise ContextError(f"reading {entry.path!r} in the {tree.label}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return h.hexdigest()
