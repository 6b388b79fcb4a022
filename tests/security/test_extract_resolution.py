"""SECURITY.md A3/A4, resolution parts: destinations through image symlinks stay in the rootfs."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from hoist.fs import resolve
from hoist.fs.resolve import Root
from hoist.layer.apply import extract_archive_into


@pytest.fixture(params=["openat2", "manual"] if resolve.HAVE_OPENAT2 else ["manual"])
def rootfs(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A rootfs with A4's links; ``tmp_path/victim`` and ``tmp_path/target`` lie outside."""
    resolve_mode = request.param == "openat2"
    rootfs = tmp_path / "rootfs"
    for d in ("tmp/symlink-target", "run", "var"):
        (rootfs / d).mkdir(parents=True)
    os.symlink("../tmp/symlink-target", rootfs / "symlink")
    os.symlink("/run", rootfs / "var" / "run")
    os.symlink("..", rootfs / "escape")
    os.symlink("/target", rootfs / "absolute")
    os.symlink(str(tmp_path / "victim"), rootfs / "host-abs")
    (tmp_path / "victim").mkdir()
    (tmp_path / "target").mkdir()
    request.node.resolve_mode = resolve_mode
    return rootfs


def _archive(name: str = "foo") -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.size = 2
        tf.addfile(info, io.BytesIO(b"hi"))
    out.seek(0)
    return out


@pytest.mark.parametrize(
    ("dest", "landed"),
    [
        ("/symlink/", "tmp/symlink-target/foo"),
        ("/var/run/", "run/foo"),
        ("/escape/absolute/", "target/foo"),
        ("/host-abs/", None),  # a host path as link target is re-rooted inside the rootfs
    ],
)
def test_a4_add_through_image_symlinks(
    rootfs: Path, request: pytest.FixtureRequest, dest: str, landed: str | None
) -> None:
    outside = rootfs.parent
    with Root(rootfs, use_openat2=request.node.resolve_mode) as root:
        extract_archive_into(_archive(), root, dest)
    if landed is None:
        landed = str(outside / "victim" / "foo").lstrip("/")
    assert (rootfs / landed).read_bytes() == b"hi"
    assert os.listdir(outside / "victim") == []
    assert os.listdir(outside / "target") == []


def test_a3_symlinks_stay_symlinks_with_targets_verbatim(tmp_path: Path) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for name, target in (("sub/bar", "../../../etc/group"), ("sub/foo", "/etc/passwd")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    out.seek(0)
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    with Root(rootfs) as root:
        extract_archive_into(out, root, "/d")
        assert root.resolve("d/sub/bar") == "/etc/group"
        assert root.resolve("d/sub/foo") == "/etc/passwd"
    assert os.readlink(rootfs / "d/sub/bar") == "../../../etc/group"
    assert os.readlink(rootfs / "d/sub/foo") == "/etc/passwd"
    assert not (rootfs / "etc").exists()  # nothing was followed to write target content
