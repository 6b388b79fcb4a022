"""Layer round trips on a real overlayfs: apply → mount → change → diff → apply elsewhere."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hoist.layer.apply import apply_layer
from hoist.layer.changes import overlay_changes
from hoist.layer.tarwriter import write_layer, write_tree

pytestmark = pytest.mark.root

CAP = bytes.fromhex("0100000200200000000000000000000000000000")
OVERLAY_OPTS = "redirect_dir=off,metacopy=off,index=off"


@contextmanager
def overlay(lowers: list[str], upper: Path, work: Path, merged: Path,
            cwd: Path | None = None) -> Iterator[Path]:
    for d in (upper, work, merged):
        d.mkdir(parents=True, exist_ok=True)
    opts = f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work},{OVERLAY_OPTS}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)],
                   check=True, cwd=cwd)
    try:
        yield merged
    finally:
        subprocess.run(["umount", str(merged)], check=True)


def snapshot(top: Path) -> dict[str, tuple[object, ...]]:
    """Everything a layer carries about each entry below ``top``."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                body: object = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                body = os.readlink(path)
            else:
                body = st.st_rdev
            xattrs = {} if stat.S_ISLNK(st.st_mode) else {
                n: os.getxattr(path, n) for n in sorted(os.listxattr(path))
                if not n.startswith("trusted.overlay.")
            }
            mtime = int(st.st_mtime)
            out[os.path.relpath(path, top)] = (kind, stat.S_IMODE(st.st_mode), st.st_uid,
                                                st.st_gid, body, xattrs, mtime)
    return out


def build_base(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "conf").write_text("a=1\n")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(os.urandom(5000))
    os.link(root / "usr" / "bin" / "tool", root / "usr" / "bin" / "tool-alias")
    (root / "data").mkdir()
    (root / "data" / "keep").write_text("keep")
    (root / "opq").mkdir()
    (root / "opq" / "old1").write_text("1")
    (root / "opq" / "old2").write_text("2")
    (root / "todelete").write_text("bye")
    (root / "dirdel" / "sub").mkdir(parents=True)
    (root / "dirdel" / "sub" / "x").write_text("x")
    os.symlink("/etc/conf", root / "conf-link")
    (root / "tmp").mkdir()
    (root / "tmp" / "existing").write_text("e")
    os.chmod(root / "tmp", 0o1777)
    for path in [root, *root.rglob("*")]:
        os.utime(path, (1_500_000_000, 1_500_000_000), follow_symlinks=False)


def change_merged(m: Path) -> None:
    with open(m / "tmp" / "existing", "a") as f:
        f.write("more")  # tmp is copied up but unchanged: left out of the changes
    (m / "todelete").unlink()
    shutil.rmtree(m / "dirdel")
    shutil.rmtree(m / "opq")
    (m / "opq").mkdir()
    (m / "opq" / "fresh").write_text("fresh")
    with open(m / "etc" / "conf", "a") as f:
        f.write("b=2\n")
    os.chmod(m / "usr" / "bin" / "tool", 0o4755)
    (m / "data" / "new").write_text("new")
    (m / "hl").mkdir()
    (m / "hl" / "one").write_text("shared")
    os.link(m / "hl" / "one", m / "hl" / "two")
    os.symlink("../etc/conf", m / "hl" / "rel-link")
    os.mkfifo(m / "hl" / "fifo")
    os.mknod(m / "hl" / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (m / "hl" / "owned").write_text("o")
    os.chown(m / "hl" / "owned", 1234, 5678)
    os.setxattr(m / "hl" / "owned", "user.comment", b"hi")
    (m / "hl" / "capped").write_text("c")
    os.setxattr(m / "hl" / "capped", "security.capability", CAP)
    (m / "conf-link").unlink()
    os.symlink("etc/conf", m / "conf-link")


def _tar_of(tree: Path) -> bytes:
    out = io.BytesIO()
    write_tree(str(tree), out)
    return out.getvalue()


def test_round_trip_through_overlay(tmp_path: Path) -> None:
    base_tree = tmp_path / "base-tree"
    build_base(base_tree)
    base_tar = _tar_of(base_tree)
    layers = tmp_path / "layers"
    layers.mkdir()
    apply_layer(io.BytesIO(base_tar), str(layers / "0"))
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    with overlay([str(layers / "0")], upper, work, merged):
        change_merged(merged)
        expected = snapshot(merged)
    first, second = io.BytesIO(), io.BytesIO()
    changes = overlay_changes(str(upper), [str(layers / "0")])
    digest = write_layer(changes, first)
    assert write_layer(overlay_changes(str(upper), [str(layers / "0")]), second) == digest
    assert first.getvalue() == second.getvalue()
    paths = [c.path for c in changes.changes]
    assert "etc" not in paths  # copied up for etc/conf only: not a real change
    assert "tmp" not in paths
    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tf:
        tmp = tf.getmember("tmp")  # but the tar carries it, with its real metadata
    assert tmp.mode == 0o1777
    assert "data" in paths  # a child was added: its mtime changed
    assert {"todelete", "dirdel", "opq"} <= set(paths)

    # (a) flattened: base then the diff, whiteouts removing.
    flat = tmp_path / "flat"
    apply_layer(io.BytesIO(base_tar), str(flat), whiteout_format="remove")
    apply_layer(io.BytesIO(first.getvalue()), str(flat), whiteout_format="remove", atomic=False)
    assert snapshot(flat) == expected
    assert os.stat(flat / "hl" / "one").st_ino == os.stat(flat / "hl" / "two").st_ino

    # (b) overlay format: the diff as its own layer dir on top of the base layer.
    apply_layer(io.BytesIO(first.getvalue()), str(layers / "1"))
    assert stat.S_ISCHR(os.lstat(layers / "1" / "todelete").st_mode)
    assert os.getxattr(layers / "1" / "opq", "trusted.overlay.opaque") == b"y"
    with overlay([str(layers / "1"), str(layers / "0")], tmp_path / "u2", tmp_path / "w2",
                 tmp_path / "m2") as m2:
        assert snapshot(m2) == expected
        assert os.stat(m2 / "hl" / "one").st_ino == os.stat(m2 / "hl" / "two").st_ino


def test_same_tree_same_diff_id_and_epoch(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    build_base(tree)
    a, b, c = io.BytesIO(), io.BytesIO(), io.BytesIO()
    assert write_tree(str(tree), a) == write_tree(str(tree), b)
    clamped = write_tree(str(tree), c, source_date_epoch=86400)
    assert clamped.diff_id != write_tree(str(tree), io.BytesIO()).diff_id
    out = tmp_path / "out"
    apply_layer(io.BytesIO(c.getvalue()), str(out))
    assert all(os.lstat(p).st_mtime <= 86400 for p in out.rglob("*"))


def _layer_tar(i: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in ((f"files/f{i:03d}", b"%d" % i), ("files/shared", b"%d" % i)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if i > 0:
            tf.addfile(tarfile.TarInfo(f"files/.wh.f{i - 1:03d}"), io.BytesIO(b""))
    return buf.getvalue()


def test_stack_of_130_layers(tmp_path: Path) -> None:
    layers = tmp_path / "layers"
    layers.mkdir()
    for i in range(130):
        apply_layer(io.BytesIO(_layer_tar(i)), str(layers / str(i)))
    # Relative lowerdirs (the mount runs in the layers dir) keep the options
    # under the page limit, as docker's overlay2 short names do.
    lowers = [str(i) for i in reversed(range(130))]
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    with overlay(lowers, upper, work, merged, cwd=layers):
        assert sorted(os.listdir(merged / "files")) == ["f129", "shared"]
        assert (merged / "files" / "shared").read_text() == "129"
        (merged / "files" / "f129").unlink()
        (merged / "files" / "added").write_text("+")
    changes = overlay_changes(str(upper), [str(layers / n) for n in lowers])
    listing = [(c.path, c.kind.value) for c in changes.changes]
    assert ("files/f129", "delete") in listing
    assert ("files/added", "add") in listing
    assert not any(p.startswith("files/f0") for p, _ in listing)
