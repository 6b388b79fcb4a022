from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import hoist.context.checksum as checksum_mod
from hoist.context.checksum import (
    MemoryChecksumCache,
    StatKey,
    StoreChecksumCache,
    selection_checksum,
    source_checksum,
    source_digests,
)
from hoist.context.ignore import parse_ignore
from hoist.context.select import SourceTree, select_sources
from hoist.errors import ContextError
from hoist.fs.resolve import Root
from tests.unit.context.trees import make_tree

LAYOUT = {
    "app/main.py": "print('hi')\n",
    "app/lib/util.py": "x = 1\n",
    "app/link": ("link", "lib/util.py"),
    "app/fifo": ("fifo",),
    "readme": "read me",
}


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[tuple[Path, SourceTree]]:
    base = make_tree(tmp_path / "ctx", LAYOUT)
    with Root(base) as root:
        yield base, SourceTree(root)


def digest(tree: SourceTree, *patterns: str) -> str:
    return selection_checksum(select_sources(tree, patterns), MemoryChecksumCache())


def test_stable_across_runs_and_mtime(ctx: tuple[Path, SourceTree]) -> None:
    base, tree = ctx
    first = digest(tree, "app")
    assert digest(tree, "app") == first
    os.utime(base / "app" / "main.py", (1, 1))
    os.utime(base / "app", (2, 2))
    assert digest(tree, "app") == first


CHANGES: dict[str, Callable[[Path], None]] = {
    "content": lambda b: (b / "app/main.py").write_text("print('bye')\n"),
    "same-size content": lambda b: (b / "app/main.py").write_text("print('ho')\n"),
    "mode": lambda b: os.chmod(b / "app/main.py", 0o755),
    "dir mode": lambda b: os.chmod(b / "app/lib", 0o700),
    "link target": lambda b: (os.unlink(b / "app/link"), os.symlink("main.py", b / "app/link")),
    "new file": lambda b: (b / "app/new").write_text(""),
    "removed file": lambda b: os.unlink(b / "app/lib/util.py"),
    "renamed": lambda b: os.rename(b / "app/main.py", b / "app/main2.py"),
    "file becomes dir": lambda b: (os.unlink(b / "app/main.py"), os.mkdir(b / "app/main.py")),
    "empty dir added": lambda b: os.mkdir(b / "app/lib/empty"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_sensitive_to(ctx: tuple[Path, SourceTree], change: str) -> None:
    base, tree = ctx
    before = digest(tree, "app")
    CHANGES[change](base)
    assert digest(tree, "app") != before


def test_owner_counts_only_for_kept_owner_trees(ctx: tuple[Path, SourceTree]) -> None:
    base, tree = ctx
    kept = SourceTree(tree.root, keep_owner=True)
    before, before_kept = digest(tree, "app"), digest(kept, "app")
    os.chown(base / "app" / "main.py", 1234, 1234)
    assert digest(tree, "app") == before  # the context is copied as 0:0 anyway
    assert digest(kept, "app") != before_kept


def test_selection_includes_names(ctx: tuple[Path, SourceTree]) -> None:
    base, tree = ctx
    (base / "readme2").write_text("read me")
    one = select_sources(tree, ["readme"])
    two = select_sources(tree, ["readme2"])
    cache = MemoryChecksumCache()
    assert source_checksum(one[0], cache) == source_checksum(two[0], cache)
    assert selection_checksum(one, cache) != selection_checksum(two, cache)


def test_ignored_files_do_not_count(ctx: tuple[Path, SourceTree]) -> None:
    base, tree = ctx
    ignoring = SourceTree(tree.root, ignore=parse_ignore("app/lib\n"))
    before = digest(ignoring, "app")
    (base / "app/lib/util.py").write_text("changed")
    assert digest(ignoring, "app") == before
    (base / "app/main.py").write_text("changed")
    assert digest(ignoring, "app") != before


def test_second_run_reads_no_content(
    ctx: tuple[Path, SourceTree], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, tree = ctx
    reads: list[str] = []
    real = checksum_mod.hash_file

    def counting(t: SourceTree, dirfd: int, entry: checksum_mod.Entry) -> str:
        reads.append(entry.path)
        return real(t, dirfd, entry)

    monkeypatch.setattr(checksum_mod, "hash_file", counting)
    cache = MemoryChecksumCache()
    sel = select_sources(tree, ["app", "readme"])
    first = selection_checksum(sel, cache)
    assert sorted(reads) == ["app/lib/util.py", "app/main.py", "readme"]
    reads.clear()
    assert selection_checksum(select_sources(tree, ["app", "readme"]), cache) == first
    assert reads == []
    (base / "readme").write_text("changed")  # only the changed file is read again
    assert selection_checksum(select_sources(tree, ["app", "readme"]), cache) != first
    assert reads == ["readme"]


def test_cache_is_keyed_by_full_stat(tmp_path: Path) -> None:
    cache = MemoryChecksumCache()
    key = StatKey(1, 2, 3, 4, 5)
    cache.put("/p", key, "d")
    assert cache.get("/p", key) == "d"
    assert cache.get("/p", StatKey(1, 2, 3, 4, 6)) is None
    assert cache.get("/q", key) is None


def test_store_adapter_round_trip(tmp_path: Path) -> None:
    store_mod = pytest.importorskip("hoist.store.store")
    store = (
        store_mod.Store.open(tmp_path / "store")
        if hasattr(store_mod.Store, "open")
        else (store_mod.Store(tmp_path / "store"))
    )
    cache = StoreChecksumCache(store)
    key = StatKey(1, 2, 3, 4, 5)
    assert cache.get("/ctx/f", key) is None
    cache.put("/ctx/f", key, "ab" * 32)
    assert cache.get("/ctx/f", key) == "ab" * 32
    assert cache.get("/ctx/f", StatKey(1, 2, 3, 4, 9)) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads 0000 files")
def test_unreadable_file_is_named(ctx: tuple[Path, SourceTree]) -> None:
    base, tree = ctx
    os.chmod(base / "app/main.py", 0)
    with pytest.raises(ContextError, match=r"app/main\.py"):
        digest(tree, "app")


def test_unreadable_file_is_named_as_root(
    ctx: tuple[Path, SourceTree], monkeypatch: pytest.MonkeyPatch
) -> None:
    _base, tree = ctx
    real_open = os.open

    def deny(path: str, flags: int, *args: object, **kwargs: object) -> int:
        if path == "main.py":
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(ContextError, match=r"'app/main.py'.*Permission denied"):
        digest(tree, "app")


def test_source_digests_name_what_changed(ctx: tuple[Path, SourceTree]) -> None:
    base, tree = ctx
    (sel,) = select_sources(tree, ["."])
    cache = MemoryChecksumCache()
    total, before = source_digests(sel, cache)
    assert total == source_checksum(sel, cache)
    assert {"app/main.py", "app/lib", "app/link", "readme", "."} <= set(before)
    (base / "app/main.py").write_text("changed\n")
    _, after = source_digests(sel, cache)
    changed = sorted(p for p in after if after[p] != before.get(p))
    assert changed == [".", "app", "app/main.py"]


class CountingStore:
    """The store's checksum API over a real store, counting the calls that reach SQLite."""

    def __init__(self, store: object) -> None:
        self.store = store
        self.calls: list[str] = []

    def checksum_get(self, path: str, stat_key: tuple[int, ...]) -> str | None:
        self.calls.append("get")
        return self.store.checksum_get(path, stat_key)  # type: ignore[attr-defined]

    def checksums_under(self, prefix: str) -> dict[str, tuple[tuple[int, ...], str]]:
        self.calls.append("under")
        return self.store.checksums_under(prefix)  # type: ignore[attr-defined]

    def checksum_put_many(self, rows: list[tuple[str, tuple[int, ...], str]]) -> None:
        self.calls.append(f"put_many {len(list(rows))}")
        self.store.checksum_put_many(rows)  # type: ignore[attr-defined]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[object]:
    from hoist.store.store import Store

    opened = Store.open(tmp_path / "store")
    yield opened


def test_store_cache_one_query_and_one_transaction_per_source(
    ctx: tuple[Path, SourceTree], store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, tree = ctx
    (sel,) = select_sources(tree, ["."])
    counting = CountingStore(store)
    first = source_checksum(sel, StoreChecksumCache(counting))  # type: ignore[arg-type]
    assert counting.calls == ["under", "put_many 3"]  # main.py, util.py, readme
    reads: list[str] = []
    real = checksum_mod.hash_file
    monkeypatch.setattr(
        checksum_mod, "hash_file", lambda t, d, e: reads.append(e.path) or real(t, d, e)
    )
    counting.calls.clear()  # a new build (new cache object) reads the memo back from the DB
    assert source_checksum(sel, StoreChecksumCache(counting)) == first  # type: ignore[arg-type]
    assert (counting.calls, reads) == (["under", "put_many 0"], [])
    (base / "readme").write_text("changed")
    counting.calls.clear()
    assert source_checksum(sel, StoreChecksumCache(counting)) != first  # type: ignore[arg-type]
    assert (counting.calls, reads) == (["under", "put_many 1"], ["readme"])


def test_store_cache_paths_outside_loaded_roots_query_one_by_one(store: object) -> None:
    cache = StoreChecksumCache(store)  # type: ignore[arg-type]
    key = StatKey(1, 2, 3, 4, 5)
    cache.put("/a/f", key, "d1")
    cache.flush()
    fresh = StoreChecksumCache(store)  # type: ignore[arg-type]
    assert fresh.get("/a/f", key) == "d1"  # nothing loaded: a single-row query
    fresh.load("/b")
    assert fresh.get("/a/f", key) == "d1"
    assert fresh.get("/a/f", StatKey(1, 2, 3, 4, 6)) is None
    fresh.load("/a")
    assert fresh.get("/ab/f", key) is None  # "/a/" is the prefix, not "/a"


def test_store_cache_non_utf8_names(tmp_path: Path, store: object) -> None:
    # SQLite TEXT cannot hold a surrogate-escaped name: memoised in memory only
    base = tmp_path / "ctx"
    base.mkdir()
    (base / os.fsdecode(b"\xff\xfe.txt")).write_text("x")
    with Root(base) as root:
        (sel,) = select_sources(SourceTree(root), ["."])
        cache = StoreChecksumCache(store)  # type: ignore[arg-type]
        first = source_checksum(sel, cache)
        assert source_checksum(sel, StoreChecksumCache(store)) == first  # type: ignore[arg-type]
        assert source_checksum(sel, MemoryChecksumCache()) == first
