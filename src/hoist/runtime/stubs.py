"""Mount stubs: the empty files and directories a runtime creates as mount points.

When a bind or filesystem mount targets a path the rootfs lacks, crun and runc
create it (an empty file or directory). Those stubs must not end up in the
step's layer (BuildKit ``executor/stubs.go``, CVE-2024-23652). Before the run,
:func:`find_missing` records which mount points are absent; afterwards
:func:`remove_stubs` deletes them again, re-resolving each one inside the
rootfs without following any symlink: a stub whose parent chain was replaced
by a symlink during the run is skipped rather than followed to the host. Only
still-empty stubs are removed, and the parent's times are put back so the
parent does not look changed either.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import msgspec

_PATH_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class Stub(msgspec.Struct, frozen=True):
    """A mount point absent before the run, and its parent's times then."""

    path: PurePosixPath
    parent_times: tuple[int, int] | None


def find_missing(rootfs: Path, destinations: Iterable[str]) -> tuple[Stub, ...]:
    """Every path component of ``destinations`` missing from ``rootfs``, shallow first.

    A destination whose chain crosses a symlink or non-directory is ignored:
    the runtime resolves it inside the rootfs itself and hoist never touches it.
    """
    seen: dict[PurePosixPath, Stub] = {}
    for destination in destinations:
        parts = PurePosixPath(destination).relative_to("/").parts
        for depth in range(1, len(parts) + 1):
            path = PurePosixPath(*parts[:depth])
            if path in seen:
                continue
            state = "missing" if path.parent in seen else _probe(rootfs, path)
            if state == "blocked":
                break
            if state == "missing":
                # below a missing dir everything is missing; its times come later
                times = None if path.parent in seen else _times(rootfs, path.parent)
                seen[path] = Stub(path, times)
    return tuple(sorted(seen.values(), key=lambda s: len(s.path.parts)))


def remove_stubs(rootfs: Path, stubs: Iterable[Stub]) -> None:
    """Remove stubs that are still empty, deepest first, restoring parent times."""
    for stub in sorted(stubs, key=lambda s: len(s.path.parts), reverse=True):
        parent = _open_dir(rootfs, stub.path.parent)
        if parent is None:
            continue
        try:
            if _remove_if_empty(parent, stub.path.name) and stub.parent_times is not None:
                _restore_times(rootfs, stub.path.parent, stub.parent_times)
        finally:
            os.close(parent)


def _probe(rootfs: Path, path: PurePosixPath) -> str:
    parent = _open_dir(rootfs, path.parent)
    if parent is None:
        return "blocked"
    try:
        os.stat(path.name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return "missing"
    finally:
        os.close(parent)
    return "present"


def _open_dir(rootfs: Path, path: PurePosixPath) -> int | None:
    """An O_PATH fd of directory ``path`` in ``rootfs``; None if any component is not a dir."""
    fd = os.open(rootfs, _PATH_FLAGS | os.O_DIRECTORY)
    for name in path.parts:
        try:
            child = os.open(name, _PATH_FLAGS | os.O_DIRECTORY, dir_fd=fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                os.close(fd)
                raise
            os.close(fd)
            return None
        os.close(fd)
        fd = child
    return fd


def _remove_if_empty(parent: int, name: str) -> bool:
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return False
    try:
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:
            os.unlink(name, dir_fd=parent)
            return True
        if stat.S_ISDIR(st.st_mode):
            os.rmdir(name, dir_fd=parent)
            return True
    except OSError:
        return False  # not empty, busy or replaced: keep it, it is the step's content
    return False


def _times(rootfs: Path, path: PurePosixPath) -> tuple[int, int] | None:
    fd = _open_dir(rootfs, path)
    if fd is None:
        return None
    try:
        st = os.fstat(fd)
        return (st.st_atime_ns, st.st_mtime_ns)
    finally:
        os.close(fd)


def _restore_times(rootfs: Path, path: PurePosixPath, times: tuple[int, int]) -> None:
    if not path.parts:
        fd = os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.utime(fd, ns=times)
        finally:
            os.close(fd)
        return
    parent = _open_dir(rootfs, path.parent)
    if parent is None:
        return
    try:
        os.utime(path.name, ns=times, dir_fd=parent, follow_symlinks=False)
    finally:
        os.close(parent)
