"""The copy snapshotter, for hosts without overlayfs (or ``HOIST_SNAPSHOTTER=copy``).

``prepare`` flattens the layer dirs into ``base/`` with hard links (cheap,
and only ever read), applying overlay-form whiteouts and opaque directories,
then copies ``base/`` into ``rootfs/`` with ``cp -a`` (every attribute,
xattrs and in-tree hard links kept). The diff compares the two trees.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hoist.errors import SnapshotError
from hoist.layer.changes import ChangeSet, tree_changes
from hoist.layer.flatten import merge_layers
from hoist.snapshot.base import delete_tree, new_snapshot_dir


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
            merge_layers([str(p) for p in lowers], str(self.base), markers=False)
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
