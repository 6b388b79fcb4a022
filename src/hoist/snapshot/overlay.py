"""The overlayfs snapshotter: lowers are the layer dirs, a fresh upper takes the writes.

Lowers are given one by one through ``fsconfig`` where the kernel allows it
(:func:`hoist.snapshot.mounts.mount_overlay_layers`); elsewhere the lowerdir
option lists short relative names (``l/0``, ``l/1``, … symlinks to the layer
dirs) and ``mount(8)`` runs from the snapshot dir, so an image of hundreds of
layers stays under the kernel's one-page mount-option limit.
``redirect_dir`` and ``metacopy`` are off so the upper dir always holds full
copies that the diff can turn into a layer by BuildKit's rules; ``index`` is
off because lowers are shared between many mounts. ``volatile`` stops the
unmount from syncing the whole upper filesystem (hundreds of milliseconds
per step when other writers left dirty pages): the upper dir becomes an
unpacked layer, which the store trusts only within the boot that made it
(:mod:`hoist.store.layers`), and a container's writes need no durability.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hoist.errors import SnapshotError
from hoist.layer.changes import ChangeSet, overlay_changes
from hoist.runtime.signals import signals_held
from hoist.snapshot.base import delete_tree, new_snapshot_dir
from hoist.snapshot.mounts import is_mounted, mount_overlay, mount_overlay_layers, unmount

FEATURES = {"index": "off", "redirect_dir": "off", "metacopy": "off"}
KERNEL_MAX_LOWERS = 500  # OVL_MAX_STACK


class _Kernel:
    """What the running kernel takes; each is cleared after its first refusal."""

    volatile = True  # the volatile mount option, Linux >= 5.10
    fs_context = True  # fsconfig's lowerdir+, Linux >= 6.8


class OverlaySnapshotter:
    """Snapshots as kernel overlay mounts under ``root/snapshots``."""

    name = "overlay"

    def __init__(self, root: Path) -> None:
        # canonical, so mount points match what /proc/self/mountinfo reports
        self.root = Path(os.path.realpath(root))

    def prepare(self, key: str, lowers: Sequence[Path]) -> OverlaySnapshot:
        """Mount a writable overlay of ``lowers`` (bottom → top).

        Raises:
            SnapshotError: invalid key or lower, key in use, or mount failure
                (nothing is left behind).
        """
        for lower in lowers:
            if not lower.is_dir():
                raise SnapshotError(f"preparing snapshot {key!r}: layer dir missing: {lower}")
        _check_stack(key, lowers)
        with signals_held():  # ^C lands after the mount or before the dir exists
            directory = new_snapshot_dir(self.root, key, self.name)
            snap = OverlaySnapshot(directory, tuple(lowers))
            try:
                snap.mount()
            except BaseException:
                snap.remove()
                raise
        return snap


def _check_stack(key: str, lowers: Sequence[Path]) -> None:
    """What overlayfs would refuse with a bare EINVAL, refused here with the reason.

    :func:`hoist.snapshot.lowers.fit_lowers` makes every stack hoist mounts pass.
    """
    if len(lowers) > KERNEL_MAX_LOWERS:
        raise SnapshotError(f"preparing snapshot {key!r}: {len(lowers)} layer dirs, "
                            f"overlayfs takes at most {KERNEL_MAX_LOWERS}")
    seen: set[Path] = set()
    for lower in lowers:
        if lower in seen:
            raise SnapshotError(f"preparing snapshot {key!r}: layer dir {lower} is in the "
                                "stack twice, which overlayfs refuses")
        seen.add(lower)


class OverlaySnapshot:
    """One overlay mount; see :class:`hoist.snapshot.base.MutableSnapshot`."""

    def __init__(self, directory: Path, lowers: tuple[Path, ...]) -> None:
        self.directory = directory
        self.lowers = lowers
        self.upper = directory / "upper"
        self.work = directory / "work"
        self.merged = directory / "merged"
        self._committed = False

    @property
    def rootfs(self) -> Path:
        return self.merged

    def mount(self) -> None:
        try:
            for d in (self.upper, self.work, self.merged):
                d.mkdir(mode=0o755)
        except OSError as exc:
            raise SnapshotError(f"preparing snapshot {self.directory.name}: {exc}") from exc
        if _Kernel.volatile:
            try:
                self._mount(volatile=True)
                return
            except SnapshotError:
                pass  # an older kernel, or a stack the kernel refuses either way: try without
        try:
            self._mount(volatile=False)
        except SnapshotError as exc:
            raise self._refused(exc) from exc
        # only volatile was refused: an older kernel, mount as before (syncing on unmount)
        _Kernel.volatile = False

    def _refused(self, exc: SnapshotError) -> SnapshotError:
        """The kernel's refusal, naming the snapshot and the layer stack it refused."""
        top = f", topmost {self.lowers[-1]}" if self.lowers else ""
        return SnapshotError(
            f"mounting the overlay of snapshot {self.directory.name} over {len(self.lowers)} "
            f"layer dirs{top}: {exc.message}",
            hint="the kernel's log (dmesg) says why overlayfs refused it",
        )

    def _mount(self, volatile: bool) -> None:
        if _Kernel.fs_context:
            options: dict[str, str | None] = dict(FEATURES)
            options |= {"upperdir": str(self.upper), "workdir": str(self.work)}
            if volatile:
                options["volatile"] = None
            lowers = [os.path.abspath(p) for p in reversed(self.lowers)]
            lowers = lowers or [str(self._empty_lower())]
            if mount_overlay_layers(self.merged, lowers, options):
                return
            _Kernel.fs_context = False
        self._mount_legacy(volatile)

    def _empty_lower(self) -> Path:
        empty = self.directory / "empty"
        empty.mkdir(mode=0o755, exist_ok=True)
        return empty

    def _mount_legacy(self, volatile: bool) -> None:
        """mount(8) from the snapshot dir, naming lowers by short relative symlinks."""
        links = self.directory / "l"
        try:
            links.mkdir(mode=0o755, exist_ok=True)
            names = self._link_lowers(links)
        except OSError as exc:
            raise SnapshotError(f"preparing snapshot {self.directory.name}: {exc}") from exc
        # overlay wants the topmost lower first
        lowerdir = ":".join(f"l/{n}" for n in reversed(names))
        features = ",".join(f"{k}={v}" for k, v in FEATURES.items())
        options = f"lowerdir={lowerdir},upperdir=upper,workdir=work,{features}"
        mount_overlay(self.merged, options + (",volatile" if volatile else ""), cwd=self.directory)

    def _link_lowers(self, links: Path) -> list[str]:
        if not self.lowers:
            (links / "e").mkdir(mode=0o755, exist_ok=True)  # overlay needs a lower: an empty one
            return ["e"]
        names = []
        for i, lower in enumerate(self.lowers):
            name = format(i, "x")
            if not (links / name).is_symlink():
                (links / name).symlink_to(lower.resolve())
            names.append(name)
        return names

    def changes(self) -> ChangeSet:
        """Changes of the upper dir against the lowers (BuildKit's overlay rules).

        Call after the container has exited; the walk costs what the step changed.

        Raises:
            LayerError: the upper dir holds a redirect or cannot be read.
        """
        return overlay_changes(str(self.upper), [str(p) for p in reversed(self.lowers)])

    def commit_dir(self) -> Path:
        """Unmount and return the upper dir (overlay form) for the store to adopt."""
        unmount(self.merged)
        self._committed = True
        return self.upper

    def remove(self) -> None:
        """Unmount and delete the snapshot dir; idempotent.

        Raises:
            SnapshotError: the mount could not be removed (the dir is kept,
                never deleted through a live mount).
        """
        with signals_held():  # half a removal would leave a dir that no owner cleans at once
            unmount(self.merged)
            if is_mounted(self.merged):
                raise SnapshotError(f"removing snapshot {self.directory.name}: still mounted")
            delete_tree(self.directory)
