"""Writable root filesystems for build steps: overlayfs, or a copy-based fallback.

``choose(root)`` picks the snapshotter for a store: overlay when a probe mount
works (probed once per store root and process), the copy snapshotter
otherwise. ``HOIST_SNAPSHOTTER=copy`` (or ``overlay``) forces the choice.
"""

from __future__ import annotations

import os
from pathlib import Path

from hoist.errors import HoistError, SnapshotError
from hoist.runtime.signals import signals_held
from hoist.snapshot.base import MutableSnapshot, Snapshotter
from hoist.snapshot.copy import CopySnapshotter
from hoist.snapshot.overlay import OverlaySnapshotter

__all__ = [
    "CopySnapshotter",
    "MutableSnapshot",
    "OverlaySnapshotter",
    "Snapshotter",
    "choose",
]

_probed: dict[Path, bool] = {}


def choose(root: Path) -> Snapshotter:
    """The snapshotter to use for the store at ``root``.

    Raises:
        SnapshotError: ``HOIST_SNAPSHOTTER`` names an unknown snapshotter, or
            forces overlay where it does not work.
    """
    forced = os.environ.get("HOIST_SNAPSHOTTER", "").strip().lower()
    if forced == "copy":
        return CopySnapshotter(root)
    if forced not in ("", "overlay", "overlayfs"):
        raise SnapshotError(f"choosing a snapshotter: unknown HOIST_SNAPSHOTTER={forced!r}",
                            hint="use overlay or copy")
    if forced or overlay_works(root):
        return OverlaySnapshotter(root)
    return CopySnapshotter(root)


def overlay_works(root: Path) -> bool:
    """Whether an overlay can be mounted under ``root`` (probed once, then remembered)."""
    key = root.resolve()
    if key not in _probed:
        _probed[key] = _probe(root)
    return _probed[key]


def _probe(root: Path) -> bool:
    snapshotter = OverlaySnapshotter(root)
    with signals_held():  # a probe cut short by ^C would leave its mount behind
        try:
            snap = snapshotter.prepare(f"probe-{os.getpid()}-{os.urandom(4).hex()}", [])
        except HoistError:
            return False
        try:
            snap.remove()
        except HoistError:
            pass
    return True
