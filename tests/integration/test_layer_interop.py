"""Our layer tars read by GNU tar, and GNU tar's archives (gnu and posix formats) applied by us."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from hoist.layer.apply import apply_layer
from hoist.layer.tarwriter import write_tree

pytestmark = pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar not installed")

XATTR_FLAGS = ["--xattrs", "--xattrs-include=*"]


def _tree(root: Path) -> Path:
    (root / "a").mkdir(parents=True)
    (root / "a" / "f").write_text("hi")
    os.link(root / "a" / "f", root / "a" / "g")
    os.symlink("f", root / "a" / "l")
    os.mkfifo(root / "a" / "p")
    os.chmod(root / "a" / "f", 0o4711)
    os.setxattr(root / "a" / "f", "user.k", b"v")
    return root


def _check(out: Path) -> None:
    f = out / "a" / "f"
    assert f.read_text() == "hi"
    assert stat.S_IMODE(f.stat().st_mode) == 0o4711
    assert os.getxattr(f, "user.k") == b"v"
    assert f.stat().st_ino == (out / "a" / "g").stat().st_ino
    assert os.readlink(out / "a" / "l") == "f"
    assert stat.S_ISFIFO((out / "a" / "p").lstat().st_mode)


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_gnu_tar_archives_apply(tmp_path: Path, fmt: str) -> None:
    src = _tree(tmp_path / "src")
    archive = tmp_path / "in.tar"
    subprocess.run(["tar", f"--format={fmt}", *XATTR_FLAGS, "-C", str(src), "-cf", str(archive),
                    "."], check=True)
    with archive.open("rb") as stream:
        apply_layer(stream, str(tmp_path / "out"), whiteout_format="remove")
    _check(tmp_path / "out")


def test_gnu_tar_reads_our_layers(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    archive = tmp_path / "ours.tar"
    with archive.open("wb") as out:
        write_tree(str(src), out)
    dest = tmp_path / "gx"
    dest.mkdir()
    subprocess.run(["tar", *XATTR_FLAGS, "-xpf", str(archive), "-C", str(dest)], check=True)
    _check(dest)
