"""Mounting and unmounting overlay filesystems, and reading /proc/self/mountinfo."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
from pathlib import Path

from hoist.errors import SnapshotError

_MNT_DETACH = 2
_UMOUNT_NOFOLLOW = 8
_libc = ctypes.CDLL(None, use_errno=True)


def mount_overlay(target: Path, options: str, cwd: Path) -> None:
    """Mount an overlay on ``target`` with ``options`` resolved relative to ``cwd``.

    The mount runs in a child process started in ``cwd`` so that relative
    ``lowerdir`` entries keep the option string under the kernel's one-page
    limit (docker's overlay2 does the same), without changing hoist's own cwd.

    Raises:
        SnapshotError: the kernel refused the mount.
    """
    argv = ["mount", "-t", "overlay", "overlay", "-o", options, str(target)]
    try:
        done = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, check=False)
    except OSError as exc:
        raise SnapshotError(f"mounting overlay on {target}: {exc.strerror}") from exc
    if done.returncode != 0:
        raise SnapshotError(f"mounting overlay on {target}: {done.stderr.strip()}")


def unmount(target: Path) -> None:
    """Unmount ``target`` if it is a mount point; detach it lazily when busy.

    Never follows a symlink at ``target``; "not mounted" is success.

    Raises:
        SnapshotError: the kernel refused even a lazy unmount.
    """
    path = os.fsencode(target)
    if _libc.umount2(path, _UMOUNT_NOFOLLOW) == 0:
        return
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOENT):
        return  # not a mount point (any more)
    if err == errno.EBUSY and _libc.umount2(path, _UMOUNT_NOFOLLOW | _MNT_DETACH) == 0:
        return
    err = ctypes.get_errno() or err
    raise SnapshotError(f"unmounting {target}: {os.strerror(err)}")


def mount_points() -> set[str]:
    """Mount points of this mount namespace, from /proc/self/mountinfo."""
    points = set()
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            field = line.split(b" ")[4]
            points.add(_unescape(field))
    return points


def is_mounted(target: Path) -> bool:
    """Whether ``target`` is a mount point (by device change, so any spelling works)."""
    return os.path.ismount(target)


def _unescape(field: bytes) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal
    out = bytearray()
    i = 0
    while i < len(field):
        if field[i : i + 1] == b"\\" and field[i + 1 : i + 4].isdigit():
            out.append(int(field[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return os.fsdecode(bytes(out))
