"""Mount stubs never reach a layer, and their cleanup never touches the host (E1).

CVE-2024-23652: a RUN step that swaps a stub's parent for a symlink to ``/``
must not make hoist delete host files while it removes the stubs it created.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.layer.changes import Kind
from hoist.runtime.oci import OciRuntime, RunRequest
from hoist.runtime.spec import BindMount, ProcessSpec
from hoist.snapshot import OverlaySnapshotter
from hoist.testing.rootfs import make_busybox_rootfs

pytestmark = pytest.mark.root


@pytest.fixture
def victims() -> Iterator[Path]:
    """A host dir outside every hoist dir, with an empty file and an empty dir."""
    base = Path("/tmp") / f"hv-{secrets.token_hex(6)}"
    (base / "d").mkdir(parents=True)
    (base / "empty").touch()
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _run(tmp: Path, lowers: list[Path], script: str,
         mounts: tuple[BindMount, ...]) -> list[tuple[str, Kind]]:
    snap = OverlaySnapshotter(tmp / "store").prepare("step", lowers)
    try:
        spec = ProcessSpec(args=("sh", "-c", script), mounts=mounts)
        status = OciRuntime().run(RunRequest(spec, snap.rootfs, tmp / "store" / "containers",
                                             output=lambda _n, _c: None))
        assert status == 0
        return [(c.path, c.kind) for c in snap.changes().changes]
    finally:
        snap.remove()


def test_hostile_step_cannot_redirect_stub_cleanup_to_the_host(
    tmp_path: Path, victims: Path
) -> None:
    source_file, source_dir = tmp_path / "f", tmp_path / "srcdir"
    source_file.write_text("from host")
    source_dir.mkdir()
    inside = f"/a/b{victims}"
    mounts = (BindMount(str(source_file), f"{inside}/empty"),
              BindMount(str(source_dir), f"{inside}/d"))
    lower = make_busybox_rootfs(tmp_path / "layer")
    _run(tmp_path, [lower], "mv /a/b /a/x && ln -s / /a/b", mounts)
    assert (victims / "empty").is_file()
    assert (victims / "d").is_dir()
    assert source_file.read_text() == "from host"


def test_stubs_of_mount_points_are_absent_from_the_layer(tmp_path: Path) -> None:
    lower = tmp_path / "layer"
    make_busybox_rootfs(lower)
    shutil.rmtree(lower / "etc")  # the runtime must create /etc for hosts, resolv.conf…
    (tmp_path / "srcdir").mkdir()
    mtime = os.lstat(lower / "tmp").st_mtime_ns
    mounts = (BindMount(str(tmp_path / "srcdir"), "/tmp/deep/mnt"),)
    changes = _run(tmp_path, [lower], "test -d /tmp/deep/mnt && echo x > /made", mounts)
    assert changes == [("made", Kind.ADD)]
    assert os.lstat(lower / "tmp").st_mtime_ns == mtime
