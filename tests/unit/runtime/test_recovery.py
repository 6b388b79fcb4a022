"""Start-up recovery: records of dead owners are cleaned, live ones are left alone."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from hoist.runtime.owner import Owner, process_start_time, read_record, write_record
from hoist.runtime.recovery import GRACE_SECONDS, recover


def _dead_owner() -> Owner:
    child = subprocess.Popen(["true"])
    started = process_start_time(child.pid) or 0
    child.wait()
    return Owner(child.pid, started)


def _record(directory: Path, owner: Owner, **extra: str) -> Path:
    directory.mkdir(parents=True)
    data = {"pid": owner.pid, "start_time": owner.start_time, **extra}
    (directory / "owner.json").write_text(json.dumps(data))
    (directory / "upper").mkdir()
    return directory


def test_nothing_to_do_is_cheap(tmp_path: Path) -> None:
    started = time.perf_counter()
    assert recover(tmp_path) == []
    assert time.perf_counter() - started < 0.05


def test_owner_identity() -> None:
    me = Owner.current()
    assert me.is_alive()
    assert not Owner(me.pid, me.start_time + 1).is_alive()  # a recycled pid
    assert not _dead_owner().is_alive()


def test_write_and_read_record(tmp_path: Path) -> None:
    write_record(tmp_path, {"kind": "snapshot"})
    owner, data = read_record(tmp_path) or (None, {})
    assert owner == Owner.current()
    assert data["kind"] == "snapshot"
    assert read_record(tmp_path / "absent") is None


def test_dead_owners_are_cleaned_live_ones_kept(tmp_path: Path) -> None:
    dead = _record(tmp_path / "snapshots" / "dead", _dead_owner(), kind="snapshot")
    live = _record(tmp_path / "snapshots" / "live", Owner.current(), kind="snapshot")
    bundle = _record(tmp_path / "containers" / "hoist-0", _dead_owner(), kind="container",
                     runtime="crun", id="hoist-never-created")
    cleaned = recover(tmp_path)
    assert sorted(cleaned) == sorted([str(dead), str(bundle)])
    assert not dead.exists() and not bundle.exists()
    assert live.exists()


def test_dirs_without_record_wait_out_the_grace_period(tmp_path: Path) -> None:
    young = tmp_path / "snapshots" / "young"
    old = tmp_path / "snapshots" / "old"
    young.mkdir(parents=True)
    old.mkdir()
    past = time.time() - GRACE_SECONDS - 5
    os.utime(old, (past, past))
    assert recover(tmp_path) == [str(old)]
    assert young.exists()


def test_garbage_record_is_treated_as_missing(tmp_path: Path) -> None:
    directory = tmp_path / "containers" / "x"
    directory.mkdir(parents=True)
    (directory / "owner.json").write_text("{not json")
    past = time.time() - GRACE_SECONDS - 5
    os.utime(directory, (past, past))
    assert recover(tmp_path) == [str(directory)]
