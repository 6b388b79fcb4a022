"""hoist.fs.lock (cross-process flock + per-key thread lock) and hoist.fs.atomic."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from hoist.errors import StoreLocked
from hoist.fs.atomic import atomic_writer, write_atomic
from hoist.fs.lock import file_lock, lock_owner


def _hold(path: str, ready: object, release: object) -> None:
    with file_lock(Path(path)):
        ready.set()  # type: ignore[attr-defined]
        release.wait(20)  # type: ignore[attr-defined]


def test_lock_excludes_another_process_and_names_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(str(path), ready, release))
    child.start()
    try:
        assert ready.wait(10)
        assert lock_owner(path) == child.pid
        with (
            pytest.raises(StoreLocked, match=f"held by pid {child.pid}"),
            file_lock(path, timeout=0.2),
        ):
            pass
        with pytest.raises(StoreLocked), file_lock(path, shared=True, timeout=0.1):
            pass
    finally:
        release.set()
        child.join(10)
    with file_lock(path, timeout=1):
        assert lock_owner(path) == os.getpid()


def test_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    path = tmp_path / "y.lock"
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(str(path), ready, release))
    child.start()
    assert ready.wait(10)
    child.kill()
    child.join(10)
    start = time.monotonic()
    with file_lock(path, timeout=2):
        assert time.monotonic() - start < 1


def test_shared_locks_coexist(tmp_path: Path) -> None:
    path = tmp_path / "s.lock"
    with (
        file_lock(path, shared=True),
        file_lock(path, shared=True, timeout=0.1),
        pytest.raises(StoreLocked),
        file_lock(path, timeout=0.1),
    ):
        pass


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as out:
        out.write(b"half")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
    write_atomic(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o600
