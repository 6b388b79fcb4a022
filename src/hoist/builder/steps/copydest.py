"""The destination side of COPY and ADD: the flags, the state of one copy, and
the directories it makes or opens in the rootfs.

Everything is resolved through :class:`hoist.fs.resolve.Root` and written by
descriptor; see :mod:`hoist.builder.steps.copy` for the destination rules.
"""

from __future__ import annotations

import os
import posixpath
import stat
import time
from collections.abc import Callable

import msgspec

from hoist.context.ignore import clean_path
from hoist.context.select import SourceTree
from hoist.dockerfile.modes import Chmod
from hoist.errors import BuildError
from hoist.fs.resolve import DirSpec, Root

_TMP_PREFIX = ".hoist-copy-"
_PATH_FLAGS = os.O_PATH | os.O_CLOEXEC


class CopyOptions(msgspec.Struct, frozen=True):
    """The flags of one COPY/ADD (``--chown`` already resolved to ids)."""

    chown: tuple[int, int] | None = None
    chmod: Chmod | None = None
    parents: bool = False


class Copier(msgspec.Struct):
    """State of one COPY: where it writes and the hardlinks seen so far."""

    root: Root
    options: CopyOptions
    where: str
    links: dict[tuple[int, int], str] = msgspec.field(default_factory=dict)

    def owner(self, tree: SourceTree, st: os.stat_result) -> tuple[int, int]:
        if self.options.chown is not None:
            return self.options.chown
        return (st.st_uid, st.st_gid) if tree.keep_owner else (0, 0)

    def mode(self, st: os.stat_result) -> int:
        chmod = self.options.chmod
        if chmod is None:
            return stat.S_IMODE(st.st_mode)
        return chmod.apply(st.st_mode, is_dir=stat.S_ISDIR(st.st_mode))

    def dir_spec(self) -> DirSpec:
        uid, gid = self.options.chown or (0, 0)
        return DirSpec(0o755, uid, gid)


def destination_path(dest: str, workdir: str) -> tuple[str, bool]:
    """Return (absolute clean in-rootfs path, whether ``dest`` names a directory by syntax)."""
    joined = dest if dest.startswith("/") else posixpath.join("/", workdir or "/", dest)
    as_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
    return clean_path(joined), as_dir


def is_dir(copier: Copier, path: str) -> bool:
    try:
        fd = copier.root.open(path, _PATH_FLAGS, 0)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise write_error(copier, path, exc) from exc
    try:
        return stat.S_ISDIR(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def mkdir_all(copier: Copier, path: str) -> None:
    try:
        os.close(copier.root.mkdir_all(path, copier.dir_spec()))
    except OSError as exc:
        raise write_error(copier, path, exc) from exc


def prepare_parent(copier: Copier, target: str) -> tuple[int, str]:
    """Create the missing parents of ``target``; return (its parent dir fd, final name)."""
    parent, name = posixpath.split(target)
    try:
        os.close(copier.root.mkdir_all(parent, copier.dir_spec()))
        path_fd, name = copier.root.open_parent(target)
    except OSError as exc:
        raise write_error(copier, parent, exc) from exc
    try:
        return reopen_dir(path_fd), name
    finally:
        os.close(path_fd)


def ensure_dir(copier: Copier, parent_fd: int, name: str, path: str) -> tuple[int, bool]:
    """Open directory ``name`` under ``parent_fd`` (not following a symlink), or create it.

    Like BuildKit, an existing non-directory there (a file, or a symlink even
    to a directory: ``/bin -> usr/bin`` in merged-usr images) is an error,
    not replaced and not written through.
    """
    created = False
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        try:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
        except OSError as exc:
            raise write_error(copier, path, exc) from exc
        created = True
    except OSError as exc:
        raise write_error(copier, path, exc) from exc
    else:
        if not stat.S_ISDIR(st.st_mode):
            at = f" ({copier.where})" if copier.where else ""
            raise BuildError(f"copying to {path!r}{at}: cannot copy to non-directory")
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=parent_fd), created
    except OSError as exc:
        raise write_error(copier, path, exc) from exc


def open_dir(copier: Copier, path: str) -> int:
    try:
        return copier.root.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, 0)
    except OSError as exc:
        raise write_error(copier, path, exc) from exc


def reopen_dir(path_fd: int) -> int:
    return os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=path_fd)


def real_path(copier: Copier, path: str) -> str:
    """The symlink-free in-root path of an existing directory (for hardlink bookkeeping)."""
    return strip_slashes(copier.root.resolve(path, follow_final=True))


def strip_slashes(path: str) -> str:
    return path.strip("/")


def tmp_name(name: str) -> str:
    return f"{_TMP_PREFIX}{os.getpid()}-{time.monotonic_ns()}-{name[:64]}"


def replace_via_tmp(dirfd: int, name: str, make: Callable[[str], None]) -> None:
    """Make an entry with ``make(tmp)`` under a temp name in ``dirfd``, then rename it over
    ``name`` (atomic: a reader sees the old entry or the new one).

    Raises:
        OSError: making or renaming failed; the temp entry is gone.
    """
    tmp = tmp_name(name)
    try:
        make(tmp)
        os.rename(tmp, name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
    except BaseException:
        unlink_quietly(dirfd, tmp)
        raise


def unlink_quietly(dirfd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dirfd)
    except OSError:
        pass


def write_error(copier: Copier, path: str, exc: OSError) -> BuildError:
    at = f" ({copier.where})" if copier.where else ""
    return BuildError(f"copying to {path!r}{at}: {exc.strerror or exc}")


def copy_data_slow(src: int, dst: int) -> None:
    while chunk := os.read(src, 1 << 20):
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view) :]
