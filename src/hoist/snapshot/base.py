"""The snapshotter seam: a writable rootfs for a step, made of layer directories.

A :class:`Snapshotter` prepares a :class:`MutableSnapshot` from unpacked layer
directories (the store's overlay-form dirs: whiteouts are 0/0 character
devices, opaque directories carry ``trusted.overlay.opaque=y``), ordered
bottom to top. Each snapshot lives in ``$ROOT/snapshots/<key>/`` whose
``owner.json`` is written before anything is mounted, so an interrupted hoist
leaves nothing that the next one cannot clean (:mod:`hoist.runtime.recovery`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from hoist.errors import SnapshotError
from hoist.layer.changes import ChangeSet
from hoist.runtime.owner import write_record

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class MutableSnapshot(Protocol):
    """A mounted, writable rootfs and what it takes to turn it into a layer."""

    @property
    def rootfs(self) -> Path: ...

    def changes(self) -> ChangeSet:
        """What was done to :attr:`rootfs`, as ``hoist.layer.changes`` values."""
        ...

    def commit_dir(self) -> Path | None:
        """Stop writes and return a dir usable as the new layer's unpacked form.

        The overlay snapshotter returns its upper dir (the caller moves it into
        the store, so committing never copies); the copy snapshotter returns
        None (the caller unpacks the layer tar instead).
        """
        ...

    def remove(self) -> None:
        """Unmount and delete everything; idempotent, safe after a partial prepare."""
        ...


class Snapshotter(Protocol):
    name: str

    def prepare(self, key: str, lowers: Sequence[Path]) -> MutableSnapshot:
        """A new writable snapshot over ``lowers`` (bottom → top).

        Raises:
            SnapshotError: bad key, key in use, or the mount failed.
        """
        ...


def new_snapshot_dir(root: Path, key: str, kind: str) -> Path:
    """Create ``root/snapshots/<key>`` with its owner record; return it.

    Raises:
        SnapshotError: invalid key, key already in use, or I/O failure.
    """
    if not _KEY.fullmatch(key):
        raise SnapshotError(f"preparing snapshot {key!r}: invalid key")
    base = root / "snapshots"
    directory = base / key
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(mode=0o700)
        write_record(directory, {"kind": "snapshot", "snapshotter": kind})
    except FileExistsError as exc:
        raise SnapshotError(f"preparing snapshot {key!r}: key already in use") from exc
    except OSError as exc:
        raise SnapshotError(f"preparing snapshot {key!r}: {exc.strerror}") from exc
    return directory


def delete_tree(path: Path) -> None:
    """Remove ``path`` recursively; raises SnapshotError naming it on failure."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SnapshotError(f"removing snapshot dir {path}: {exc.strerror}") from exc
