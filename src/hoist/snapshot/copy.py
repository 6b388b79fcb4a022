"""The copy snapshotter, for hosts without overlayfs (or ``HOIST_SNAPSHOTTER=copy``).

``prepare`` flattens the layer dirs into ``base/`` with hard links (cheap,
and only ever read), applying overlay-form whiteouts and opaque directories,
then copies ``base/`` into ``rootfs/`` with ``cp -a`` (every attribute,
xattrs and in-tree hard links kept). The diff compares the two trees.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hoist.errors import SnapshotError
from hoist.layer.changes import ChangeSet, tree_changes
from hoist.snapshot.base import delete_tree, new_snapshot_dir

_OPAQUE = ("trusted.overlay.opaque", "user.overlay.opaque")


class CopySnapshotter:
    """Snapshots as plain directories under ``root/snapshots``."""

    name = "copy"

    def __init__(self, root: Path) -> None:
        # canonical, so mount points match what /proc/self/mountinfo reports
        self.root = Path(os.path.realpath(root))

    def prepare(self, key: str, lowers: Sequence[Path]) -> CopySnapshot:
        """Flatten ``lowers`` (bottom → top) into a writable copy.

        Raises:
            SnapshotError: invalid key or lower, key in use, or I/O failure.
        """
        directory = new_snapshot_dir(self.root, key, self.name)
        snap = CopySnapshot(directory)
        try:
            snap.populate(lowers)
        except BaseException:
            snap.remove()
            raise
        return snap


class CopySnapshot:
    """One flattened copy; see :class:`hoist.snapshot.base.MutableSnapshot`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.base = directory / "base"
        self.root = directory / "rootfs"

    @property
    def rootfs(self) -> Path:
        return self.root

    def populate(self, lowers: Sequence[Path]) -> None:
        try:
            self.base.mkdir(mode=0o755)
            for lower in lowers:
                _merge_layer(lower, self.base)
        except OSError as exc:
            raise SnapshotError(f"flattening layers into {self.base}: {exc}") from exc
        done = subprocess.run(["cp", "-a", "--reflink=auto", f"{self.base}/.", str(self.root)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SnapshotError(f"copying the rootfs {self.root}: {done.stderr.strip()}")

    def changes(self) -> ChangeSet:
        """Changes found by comparing the flattened base with the rootfs.

        Raises:
            LayerError: a tree cannot be read.
        """
        return tree_changes(str(self.base), str(self.root))

    def commit_dir(self) -> None:
        """No reusable layer dir: the caller unpacks the layer tar instead."""
        return None

    def remove(self) -> None:
        """Delete the snapshot dir; idempotent."""
        delete_tree(self.directory)


def _merge_layer(layer: Path, dest: Path) -> None:
    """Merge overlay-form ``layer`` into ``dest`` with hard links (dirs are created)."""
    for dirpath, dirnames, filenames in os.walk(layer):
        src_dir = Path(dirpath)
        out_dir = dest / src_dir.relative_to(layer)
        if src_dir != layer and _is_opaque(src_dir):
            _clear(out_dir)
        _sync_dir(src_dir, out_dir)
        for name in filenames + [d for d in dirnames if os.path.islink(src_dir / d)]:
            _merge_entry(src_dir / name, out_dir / name)
        dirnames[:] = [d for d in dirnames if not os.path.islink(src_dir / d)]
    _copy_dir_times(layer, dest)


def _merge_entry(src: Path, out: Path) -> None:
    st = os.lstat(src)
    if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
        _remove(out)  # whiteout
        return
    _remove(out)
    os.link(src, out, follow_symlinks=False)


def _sync_dir(src: Path, out: Path) -> None:
    """Make ``out`` a directory with ``src``'s owner, mode and xattrs."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        out.unlink()
    if not out.exists():
        out.mkdir()
    st = os.lstat(src)
    os.chown(out, st.st_uid, st.st_gid, follow_symlinks=False)
    os.chmod(out, stat.S_IMODE(st.st_mode))
    for name in os.listxattr(src, follow_symlinks=False):
        if not name.startswith(("trusted.overlay.", "user.overlay.")):
            os.setxattr(out, name, os.getxattr(src, name, follow_symlinks=False))


def _copy_dir_times(layer: Path, dest: Path) -> None:
    # times last, deepest first: creating children changed the parents' mtimes
    dirs = [Path(p) for p, _d, _f in os.walk(layer)]
    for src_dir in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        out = dest / src_dir.relative_to(layer)
        if out.is_dir() and not out.is_symlink():
            st = os.lstat(src_dir)
            os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _is_opaque(path: Path) -> bool:
    for name in _OPAQUE:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _clear(directory: Path) -> None:
    if directory.is_dir() and not directory.is_symlink():
        for child in list(directory.iterdir()):
            _remove(child)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        delete_tree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()
