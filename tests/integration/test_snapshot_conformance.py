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
