"""Snapshot dirs, keys and mountinfo parsing (no mounts needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.errors import SnapshotError
from hoist.runtime.owner import Owner, read_record
from hoist.snapshot.base import new_snapshot_dir
from hoist.snapshot.mounts import _unescape, mount_points


def test_snapshot_dir_has_an_owner_record_before_anything_else(tmp_path: Path) -> None:
    directory = new_snapshot_dir(tmp_path, "k-1.a_b", "overlay")
    assert directory == tmp_path / "snapshots" / "k-1.a_b"
    assert sorted(p.name for p in directory.iterdir()) == ["owner.json"]
    owner, data = read_record(directory) or (None, {})
    assert owner == Owner.current()
    assert data["snapshotter"] == "overlay"
    assert (directory.stat().st_mode & 0o777) == 0o700


@pytest.mark.parametrize("key", ["", ".x", "../x", "a/b", "a b", "x" * 65, "a\nb"])
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(SnapshotError, match="invalid key"):
        new_snapshot_dir(tmp_path, key, "copy")


def test_key_in_use_is_refused(tmp_path: Path) -> None:
    new_snapshot_dir(tmp_path, "k", "copy")
    with pytest.raises(SnapshotError, match="already in use"):
        new_snapshot_dir(tmp_path, "k", "copy")


def test_mountinfo_escapes_are_decoded() -> None:
    assert _unescape(rb"/a\040b\011c\012d\134e") == "/a b\tc\nd\\e"
    assert "/" in mount_points()
