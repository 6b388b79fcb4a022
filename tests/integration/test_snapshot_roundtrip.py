"""RUN in a snapshot → diff → apply elsewhere gives the same tree (both snapshotters).

The layer of a real container run is turned into a tar with hoist.layer, then
applied over the same base layers in a plain directory; the result must equal
what the container saw. Both snapshotters must also produce byte-identical
layers for the same step (mtimes clamped with SOURCE_DATE_EPOCH).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from hoist.layer.apply import apply_layer
from hoist.layer.tarwriter import write_layer, write_tree
from hoist.runtime.oci import OciRuntime, RunRequest
from hoist.runtime.spec import ProcessSpec
from hoist.snapshot import CopySnapshotter, OverlaySnapshotter
from hoist.snapshot.base import Snapshotter
from hoist.testing.rootfs import make_busybox_rootfs

pytestmark = pytest.mark.root

SNAPSHOTTERS = pytest.mark.parametrize("factory", [OverlaySnapshotter, CopySnapshotter],
                                       ids=["overlay", "copy"])

STEP = (
    "echo new > /new && ln /new /newlink && rm /data/gone && echo changed > /data/keep"
    " && echo s > /suid && chmod 4755 /suid && chown 1000:29 /data/owned"
    " && mknod /null2 c 1 3 && mkfifo /fifo && ln -s ../etc/passwd /sym"
    " && mkdir -p /deep/a/b && touch /deep/a/b/f && rm -rf /data/sub/inner"
)
OPAQUE_STEP = "rm -rf /data/sub && mkdir /data/sub && echo only > /data/sub/only"


def _second_layer(base: Path) -> Path:
    layer = base / "layer2"
    (layer / "data" / "sub" / "inner").mkdir(parents=True)
    for name in ("gone", "keep", "owned", "linked", "sub/inner/x", "sub/y"):
        (layer / "data" / name).write_text(name)
    # not written by the step: writing a lower hardlink differs by design (overlay's
    # copy-up breaks the link, a copy keeps it), like docker's overlay2 and vfs
    os.link(layer / "data" / "linked", layer / "data" / "linked2")
    return layer


def _listing(root: Path) -> dict[str, tuple[object, ...]]:
    """Type, mode, owner, size, content, link target, device and mtime of every entry."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                extra: object = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            else:
                extra = st.st_rdev
            mtime = None if stat.S_ISDIR(st.st_mode) else st.st_mtime_ns // 10**9
            out[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid,
                                                 st.st_size if not stat.S_ISDIR(st.st_mode) else 0,
                                                 extra, mtime)
    return out


def _run_step(factory: type, tmp: Path, lowers: list[Path], script: str, epoch: int | None
              ) -> tuple[dict[str, tuple[object, ...]], bytes, str]:
    snapshotter: Snapshotter = factory(tmp / "store")
    snap = snapshotter.prepare("step", lowers)
    try:
        spec = ProcessSpec(args=("sh", "-c", script))
        status = OciRuntime().run(RunRequest(spec, snap.rootfs, tmp / "store" / "containers",
                                             output=lambda _n, _c: None))
        assert status == 0
        seen = _listing(snap.rootfs)
        out = io.BytesIO()
        digest = write_layer(snap.changes(), out, source_date_epoch=epoch)
    finally:
        snap.remove()
    return seen, out.getvalue(), str(digest.diff_id)


def _apply_all(dest: Path, layers: list[Path], step_tar: bytes) -> None:
    for layer in layers:
        buf = io.BytesIO()
        write_tree(str(layer), buf)
        buf.seek(0)
        apply_layer(buf, str(dest), whiteout_format="remove", atomic=False)
    apply_layer(io.BytesIO(step_tar), str(dest), whiteout_format="remove", atomic=False)


@pytest.fixture
def lowers(tmp_path: Path) -> list[Path]:
    return [make_busybox_rootfs(tmp_path / "layer1"), _second_layer(tmp_path)]


@SNAPSHOTTERS
@pytest.mark.parametrize("script", [STEP, OPAQUE_STEP], ids=["changes", "opaque"])
def test_run_diff_apply_round_trip(tmp_path: Path, lowers: list[Path], factory: type,
                                   script: str) -> None:
    seen, tar, _ = _run_step(factory, tmp_path, lowers, script, None)
    dest = tmp_path / "elsewhere"
    dest.mkdir()
    _apply_all(dest, lowers, tar)
    assert _listing(dest) == seen


def test_both_snapshotters_make_the_same_layer(tmp_path: Path, lowers: list[Path]) -> None:
    _, tar_overlay, id_overlay = _run_step(OverlaySnapshotter, tmp_path / "o", lowers, STEP, 1)
    _, tar_copy, id_copy = _run_step(CopySnapshotter, tmp_path / "c", lowers, STEP, 1)
    assert id_overlay == id_copy
    assert tar_overlay == tar_copy
