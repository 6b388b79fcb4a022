"""Both snapshotters pass the shared conformance check, for real, as root."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.snapshot import CopySnapshotter, OverlaySnapshotter, choose
from hoist.testing.snapshotter import check_snapshotter

pytestmark = pytest.mark.root


def test_overlay_snapshotter_conforms(tmp_path: Path) -> None:
    check_snapshotter(OverlaySnapshotter, tmp_path)


def test_copy_snapshotter_conforms(tmp_path: Path) -> None:
    check_snapshotter(CopySnapshotter, tmp_path)


def test_choose_prefers_overlay_and_honours_forced_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOIST_SNAPSHOTTER", raising=False)
    assert choose(tmp_path).name == "overlay"
    monkeypatch.setenv("HOIST_SNAPSHOTTER", "copy")
    assert choose(tmp_path).name == "copy"
    assert not any((tmp_path / "snapshots").iterdir()), "probe left a snapshot behind"


def test_overlay_mounts_volatile_so_unmount_does_not_sync(tmp_path: Path) -> None:
    """The upper is trusted only within its boot (store.layers), so no syncfs at unmount."""
    snap = OverlaySnapshotter(tmp_path).prepare("v", [])
    try:
        merged = str(snap.rootfs)
        with open("/proc/self/mountinfo") as f:
            line = next(row for row in f if row.split()[4] == merged)
        super_options = line.split(" - ")[1].split()[2].split(",")
        # newer kernels report the option as fsync=volatile
        assert {"volatile", "fsync=volatile"} & set(super_options)
    finally:
        snap.remove()
