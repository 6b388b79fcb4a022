"""Mounting and unmounting overlay filesystems, and reading /proc/self/mountinfo.

An overlay is mounted through the kernel's file-system-context calls
(``fsopen``/``fsconfig``/``fsmount``/``move_mount``) where they take one lower
per ``lowerdir+`` (Linux >= 6.8): no child process, no symlinks, and no
one-page limit on the options. Older kernels get ``mount(8)`` with relative
lower names, as before.
"""

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
_libc.syscall.restype = ctypes.c_long

# syscall numbers from 424 on are the same on every architecture but alpha
_SYS_MOVE_MOUNT = 429
_SYS_FSOPEN = 430
_SYS_FSCONFIG = 431
_SYS_FSMOUNT = 432
_FSCONFIG_SET_FLAG = 0
_FSCONFIG_SET_STRING = 1
_FSCONFIG_CMD_CREATE = 6
_CLOEXEC = 1  # FSOPEN_CLOEXEC, FSMOUNT_CLOEXEC
_MOVE_MOUNT_F_EMPTY_PATH = 4
_AT_FDCWD = -100


class _Unsupported(Exception):
    """The kernel lacks the file-system-context calls or ``lowerdir+``."""


def mount_overlay_layers(target: Path, lowers: list[str], options: dict[str, str | None]) -> bool:
    """Mount an overlay of ``lowers`` (topmost first) on ``target``; False if unsupported.

    ``options`` maps each option to its value (None: a flag such as ``volatile``);
    ``upperdir`` and ``workdir`` are among them, as absolute paths.

    Raises:
        SnapshotError: the kernel supports the calls but refused the mount.
    """
    try:
        fs = _syscall(_SYS_FSOPEN, b"overlay", _CLOEXEC)
    except _Unsupported:
        return False
    if fs < 0:
        return False
    try:
        _configure(fs, lowers, options)
        mnt = _syscall(_SYS_FSMOUNT, fs, _CLOEXEC, 0)
        if mnt < 0:
            raise _refused(target, fs)
        try:
            if _syscall(_SYS_MOVE_MOUNT, mnt, b"", _AT_FDCWD, os.fsencode(target),
                        _MOVE_MOUNT_F_EMPTY_PATH) < 0:  # fmt: skip
                raise _refused(target, fs)
        finally:
            os.close(mnt)
    except _Unsupported:
        return False
    finally:
        os.close(fs)
    return True


def _configure(fs: int, lowers: list[str], options: dict[str, str | None]) -> None:
    for i, lower in enumerate(lowers):
        if _fsconfig(fs, _FSCONFIG_SET_STRING, b"lowerdir+", os.fsencode(lower)) < 0:
            if i == 0 and ctypes.get_errno() == errno.EINVAL:
                raise _Unsupported  # before 6.8: no lowerdir+
            reason = os.strerror(ctypes.get_errno())
            raise SnapshotError(f"mounting overlay: lower {lower}: {reason}")
    for key, value in options.items():
        kind = _FSCONFIG_SET_FLAG if value is None else _FSCONFIG_SET_STRING
        data = None if value is None else os.fsencode(value)
        if _fsconfig(fs, kind, key.encode(), data) < 0:
            raise SnapshotError(f"mounting overlay: option {key}: "
                                f"{os.strerror(ctypes.get_errno())}")
    if _fsconfig(fs, _FSCONFIG_CMD_CREATE, None, None) < 0:
        raise SnapshotError(f"mounting overlay: {_log(fs) or os.strerror(ctypes.get_errno())}")


def _fsconfig(fs: int, cmd: int, key: bytes | None, value: bytes | None) -> int:
    return _syscall(_SYS_FSCONFIG, fs, cmd, key, value, 0)


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(number, *args)
    if result < 0 and ctypes.get_errno() == errno.ENOSYS:
        raise _Unsupported
    return int(result)


def _refused(target: Path, fs: int) -> SnapshotError:
    reason = _log(fs) or os.strerror(ctypes.get_errno())
    return SnapshotError(f"mounting overlay on {target}: {reason}")


def _log(fs: int) -> str:
    """The kernel's messages about the context (what ``mount`` would have printed)."""
    lines = []
    while True:
        try:
            data = os.read(fs, 4096)
        except OSError:
            break
        if not data:
            break
        lines.append(data.decode(errors="replace").strip())
    return "; ".join(lines)


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
