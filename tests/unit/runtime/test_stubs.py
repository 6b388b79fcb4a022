"""Mount-stub bookkeeping: only what was missing and is still empty is removed."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from hoist.runtime.stubs import find_missing, remove_stubs


def test_missing_components_are_recorded_shallow_first(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hosts").touch()
    stubs = find_missing(tmp_path, ["/etc/hosts", "/etc/hostname", "/a/b/c", "/a/b/d"])
    paths = [str(s.path) for s in stubs]
    assert sorted(paths) == ["a", "a/b", "a/b/c", "a/b/d", "etc/hostname"]
    depths = [p.count("/") for p in paths]
    assert depths == sorted(depths)


def test_created_stubs_are_removed_and_parent_times_restored(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.utime(tmp_path / "etc", ns=(1_000_000_000, 2_000_000_000))
    stubs = find_missing(tmp_path, ["/etc/hostname", "/a/b/c"])
    (tmp_path / "etc" / "hostname").touch()  # what the runtime does
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c").touch()
    remove_stubs(tmp_path, stubs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etc"]
    assert list((tmp_path / "etc").iterdir()) == []
    assert os.stat(tmp_path / "etc").st_mtime_ns == 2_000_000_000


def test_stubs_the_step_filled_are_kept(tmp_path: Path) -> None:
    stubs = find_missing(tmp_path, ["/data/file", "/mnt"])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "file").write_text("written by the step")
    (tmp_path / "mnt").mkdir()
    (tmp_path / "mnt" / "x").touch()
    remove_stubs(tmp_path, stubs)
    assert (tmp_path / "data" / "file").read_text() == "written by the step"
    assert (tmp_path / "mnt" / "x").exists()


def test_a_parent_swapped_for_a_symlink_is_never_followed(tmp_path: Path) -> None:
    rootfs, outside = tmp_path / "rootfs", tmp_path / "outside"
    rootfs.mkdir()
    (outside / "b").mkdir(parents=True)
    (outside / "b" / "empty").touch()
    stubs = find_missing(rootfs, ["/a/b/empty"])
    assert [s.path for s in stubs][-1] == PurePosixPath("a/b/empty")
    (rootfs / "a").symlink_to(outside)  # the step replaced /a
    remove_stubs(rootfs, stubs)
    assert (outside / "b" / "empty").exists()
    assert (rootfs / "a").is_symlink()


def test_destinations_through_symlinks_are_left_to_the_runtime(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc")
    assert find_missing(tmp_path, ["/link/hosts"]) == ()
