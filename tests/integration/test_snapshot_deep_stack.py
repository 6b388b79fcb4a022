"""A 130-layer stack mounts as one overlay despite the one-page mount-option limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.errors import SnapshotError
from hoist.snapshot import OverlaySnapshotter, choose, overlay
from hoist.snapshot.mounts import mount_points

pytestmark = pytest.mark.root

LAYERS = 130


def _layers(base: Path) -> list[Path]:
    # long directory names make the absolute lowerdir list far exceed 4096 bytes
    layers = []
    for i in range(LAYERS):
        layer = base / f"layer-{i:03d}-{'x' * 60}"
        layer.mkdir(parents=True)
        (layer / f"file{i}").write_text(str(i))
        (layer / "top").write_text(str(i))
        layers.append(layer)
    return layers


@pytest.mark.parametrize("fs_context", [True, False], ids=["fsconfig", "mount8"])
def test_130_layers_are_all_visible_with_the_topmost_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fs_context: bool
) -> None:
    """Through fsconfig's lowerdir+ (Linux >= 6.8) and through mount(8) with short links."""
    monkeypatch.setattr(overlay._Kernel, "fs_context", fs_context)
    layers = _layers(tmp_path / "layers")
    assert len(":".join(str(p) for p in layers)) > 4096
    snap = OverlaySnapshotter(tmp_path / "store").prepare("deep", layers)
    try:
        rootfs = snap.rootfs
        assert str(rootfs) in mount_points()
        assert (rootfs / "top").read_text() == str(LAYERS - 1)
        assert all((rootfs / f"file{i}").read_text() == str(i) for i in range(LAYERS))
        (rootfs / "file0").write_text("changed")
        assert (layers[0] / "file0").read_text() == "0"
        upper = snap.commit_dir()
        assert (upper / "file0").read_text() == "changed"
        assert str(rootfs) not in mount_points()
    finally:
        snap.remove()
    assert not [m for m in mount_points() if m.startswith(str(tmp_path))]


def test_missing_lower_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="layer dir missing"):
        OverlaySnapshotter(tmp_path / "store").prepare("k", [tmp_path / "absent"])
    assert not (tmp_path / "store" / "snapshots" / "k").exists()


def test_unknown_forced_snapshotter_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOIST_SNAPSHOTTER", "zfs")
    with pytest.raises(SnapshotError, match="unknown HOIST_SNAPSHOTTER"):
        choose(tmp_path)


def test_a_stack_overlay_would_refuse_is_refused_with_the_reason(tmp_path: Path) -> None:
    """Never a bare EINVAL: a dir named twice, or more lowers than the kernel takes."""
    layers = _layers(tmp_path / "layers")
    snapshotter = OverlaySnapshotter(tmp_path / "store")
    with pytest.raises(SnapshotError, match=r"layer dir .*layer-001.* is in the stack twice"):
        snapshotter.prepare("twice", [layers[0], layers[1], layers[1]])
    with pytest.raises(SnapshotError, match="501 layer dirs, overlayfs takes at most 500"):
        snapshotter.prepare("deep", (layers * 4)[:501])
    assert not (tmp_path / "store" / "snapshots" / "twice").exists()


def test_a_mount_the_kernel_refuses_names_the_snapshot_and_its_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With hoist's own check out of the way, the kernel's refusal of a twice-named dir."""
    layers = _layers(tmp_path / "layers")
    monkeypatch.setattr(overlay, "_check_stack", lambda key, lowers: None)
    with pytest.raises(SnapshotError) as caught:
        OverlaySnapshotter(tmp_path / "store").prepare("refused", [layers[0], layers[0]])
    message = str(caught.value)
    assert "mounting the overlay of snapshot refused over 2 layer dirs" in message
    assert f"topmost {layers[0]}" in message and "dmesg" in (caught.value.hint or "")
    assert not (tmp_path / "store" / "snapshots" / "refused").exists()
