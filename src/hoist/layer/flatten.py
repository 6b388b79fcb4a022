"""Merging overlay-form layer dirs into one dir, with hard links.

Two users, one rule set:

* the copy snapshotter merges a whole stack into a plain tree
  (``markers=False``): whiteouts and opaque flags are applied, then dropped;
* the overlay snapshotter folds the bottom of a deep stack into a few dirs
  that stay lowers of an overlay (``markers=True``): a whiteout stays a 0/0
  character device and a directory that hides what lies below it is marked
  opaque, so the folded dir means, over the layers beneath it, what its layers
  meant one by one.

Files, symlinks, devices and FIFOs become hard links to the layer dirs' inodes
(layer dirs are never written once made); directories are created with the
owner, mode, xattrs and times of the topmost layer that has them. The walk
never follows a symlink, in a layer or in ``dest``.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence

from hoist.layer.changes import OPAQUE_XATTRS, OVERLAY_XATTR_PREFIXES

OPAQUE_XATTR = OPAQUE_XATTRS[0]  # trusted.overlay.opaque: what a rootful overlay reads


def merge_layers(layers: Sequence[str], dest: str, *, markers: bool) -> None:
    """Merge overlay-form ``layers`` (bottom → top) into the existing dir ``dest``.

    Raises:
        OSError: a layer cannot be read or ``dest`` written (the caller names it).
    """
    for layer in layers:
        merge_layer(layer, dest, markers=markers)


def merge_layer(layer: str, dest: str, *, markers: bool) -> None:
    """Merge one overlay-form layer dir into ``dest`` (see the module docstring).

    Raises:
        OSError: as :func:`merge_layers`.
    """
    dirs: list[tuple[str, str]] = [(layer, dest)]
    done: list[tuple[str, str]] = []
    while dirs:
        src, out = dirs.pop()
        done.append((src, out))
        with os.scandir(src) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            target = os.path.join(out, entry.name)
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                _merge_dir(entry.path, target, st, markers)
                dirs.append((entry.path, target))
            elif stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                _remove(target)
                if markers:
                    os.link(entry.path, target, follow_symlinks=False)
            else:
                _remove(target)
                os.link(entry.path, target, follow_symlinks=False)
    # times last, deepest first: making children changed the parents' mtimes
    for src, out in reversed(done):
        st = os.lstat(src)
        os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _merge_dir(src: str, out: str, st: os.stat_result, markers: bool) -> None:
    """Make ``out`` the directory ``src`` says it is, merged or replacing what is there."""
    opaque = _is_opaque(src)
    try:
        before = os.lstat(out)
    except FileNotFoundError:
        before = None
    was_dir = before is not None and stat.S_ISDIR(before.st_mode)
    was_opaque = was_dir and _is_opaque(out)
    if before is not None and (opaque or not was_dir):
        _remove(out)  # an opaque dir hides what was there, a dir replaces a non-directory
    if opaque or not was_dir:
        os.mkdir(out)
    os.chown(out, st.st_uid, st.st_gid, follow_symlinks=False)
    os.chmod(out, stat.S_IMODE(st.st_mode))
    wanted = _layer_xattrs(src)
    # over a whiteout or a non-directory, the dir hides the lowers beneath the fold too
    if markers and (opaque or was_opaque or (before is not None and not was_dir)):
        wanted[OPAQUE_XATTR] = b"y"
    for name in os.listxattr(out, follow_symlinks=False):
        if name not in wanted:
            os.removexattr(out, name, follow_symlinks=False)
    for name, value in wanted.items():
        os.setxattr(out, name, value, follow_symlinks=False)


def _layer_xattrs(path: str) -> dict[str, bytes]:
    names = os.listxattr(path, follow_symlinks=False)
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in names
            if not n.startswith(OVERLAY_XATTR_PREFIXES)}


def _is_opaque(path: str) -> bool:
    for name in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _remove(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
