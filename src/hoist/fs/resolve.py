"""The one root-confined path-resolution primitive (SECURITY.md rule 1).

A :class:`Root` holds an ``O_PATH`` descriptor of a directory and resolves paths
below it with *chroot semantics*: ``..`` never climbs above the root, an absolute
symlink target restarts at the root, and a symlink chain longer than 40 fails with
``ELOOP``. Nothing is ever resolved by the host: every component is opened with
``O_NOFOLLOW`` relative to its parent's descriptor, so a symlink planted in the
tree can redirect a lookup only to somewhere else *inside* the root.

The kernel does the same in one call with ``openat2(RESOLVE_IN_ROOT |
RESOLVE_NO_MAGICLINKS)`` (Linux >= 5.6); :class:`Root` uses it for ``open`` and
``open_parent`` when available and otherwise walks by hand. Both give the same
answers (the tests run both).

Errors are the ``OSError`` of the failing call (``ENOENT``, ``ENOTDIR``,
``ELOOP``, ``EEXIST`` …) with ``filename`` set to the in-root path, so each caller
translates them into its own :class:`~hoist.errors.HoistError` at its seam.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections import deque
from types import TracebackType
from typing import Final

import msgspec

MAX_SYMLINKS: Final = 40

_PATH_FLAGS: Final = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_RESOLVE_IN_ROOT: Final = 0x10
_RESOLVE_NO_MAGICLINKS: Final = 0x02
_SYS_OPENAT2: Final = 437  # the same number on every architecture (asm-generic)


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


_libc = ctypes.CDLL(None, use_errno=True)


def _openat2(dirfd: int, path: str, flags: int, mode: int) -> int:
    """Call openat2(2) with RESOLVE_IN_ROOT; retry the kernel's EAGAIN (a rename raced)."""
    # O_TMPFILE includes O_DIRECTORY's bit, so test it whole; openat2 rejects a
    # mode when nothing is being created.
    creating = flags & os.O_CREAT or flags & os.O_TMPFILE == os.O_TMPFILE
    how = _OpenHow(flags | os.O_CLOEXEC, mode if creating else 0,
                   _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS)
    raw = os.fsencode(path or ".")
    for _ in range(32):
        fd = _libc.syscall(_SYS_OPENAT2, dirfd, raw, ctypes.byref(how), ctypes.sizeof(how))
        if fd >= 0:
            return int(fd)
        err = ctypes.get_errno()
        if err != errno.EAGAIN:
            raise OSError(err, os.strerror(err), path)
    raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN), path)


def _probe_openat2() -> bool:
    try:
        os.close(_openat2(os.open("/", os.O_PATH | os.O_CLOEXEC), ".", os.O_PATH, 0))
    except OSError:
        return False
    return True


HAVE_OPENAT2: Final = _probe_openat2()


def split_path(rel: str) -> list[str]:
    """Split a path into components, dropping empty ones and ``.`` (``..`` is kept)."""
    return [part for part in rel.split("/") if part not in ("", ".")]


class DirSpec(msgspec.Struct, frozen=True):
    """Mode and owner for directories that :meth:`Root.mkdir_all` creates."""

    mode: int = 0o755
    uid: int | None = None
    gid: int | None = None


class _Walk(msgspec.Struct):
    """Result of a walk; ``parent`` and ``fd`` are descriptors the walk's caller owns."""

    parent: int
    name: str | None
    fd: int | None
    names: list[str] = msgspec.field(default_factory=list)
    missing: list[str] = msgspec.field(default_factory=list)

    def close(self, keep: int | None = None) -> None:
        for fd in {self.parent, self.fd}:
            if fd is not None and fd != keep:
                os.close(fd)


class Root:
    """A directory that paths are resolved inside of, with chroot semantics.

    Usable as a context manager; :meth:`close` releases the directory descriptor.
    Descriptors returned by methods belong to the caller.
    """

    def __init__(self, path: str | os.PathLike[str], *, use_openat2: bool | None = None) -> None:
        """Open ``path`` (which is trusted: it is the host path of the root).

        Raises:
            OSError: ``path`` cannot be opened as a directory.
        """
        self.path = os.fspath(path)
        self.fd = os.open(self.path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self.use_openat2 = HAVE_OPENAT2 if use_openat2 is None else use_openat2

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Root:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- public operations -------------------------------------------------------------

    def resolve(self, rel: str, *, follow_final: bool = True) -> str:
        """Return the absolute in-root path ``rel`` resolves to (components need not exist).

        Raises:
            OSError: ``ELOOP`` for too many symlinks, ``ENOTDIR`` for a non-directory
                in the middle of the path.
        """
        walk = self._walk(rel, follow_final=follow_final, allow_missing=True)
        walk.close()
        tail = [walk.name] if walk.name is not None else []
        names = walk.names + tail
        for part in walk.missing:  # nothing below a missing name exists: lexical is exact
            if part != "..":
                names.append(part)
            elif names:
                names.pop()
        return "/" + "/".join(names)

    def open(self, rel: str, flags: int = os.O_RDONLY, mode: int = 0o644,
             *, follow_final: bool = True) -> int:
        """Open ``rel`` inside the root like ``os.open``; return a new O_CLOEXEC descriptor.

        Raises:
            OSError: as ``open(2)`` would inside a chroot (``ELOOP`` when the final
                component is a symlink and ``follow_final`` is false, unless O_PATH).
        """
        if not follow_final:
            flags |= os.O_NOFOLLOW
        follow_final = not flags & os.O_NOFOLLOW  # O_NOFOLLOW in flags means the same
        if self.use_openat2:
            return _openat2(self.fd, rel, flags, mode)
        return self._open_walk(rel, flags, mode, follow_final)

    def open_parent(self, rel: str) -> tuple[int, str]:
        """Resolve every component but the last; return (directory descriptor, last name).

        The final component is not looked at, so the caller can create, unlink,
        rename or symlink it with ``dir_fd=`` without following it.

        Raises:
            OSError: ``EINVAL`` when ``rel`` has no final name (``""``, ``/``, ``a/..``);
                otherwise as :meth:`open` on the parent.
        """
        parts = rel.rstrip("/").split("/")
        name = parts[-1]
        if name in ("", ".", ".."):
            raise OSError(errno.EINVAL, "path has no final name", rel)
        parent = "/".join(parts[:-1]) or "."
        if self.use_openat2:
            return _openat2(self.fd, parent, os.O_PATH | os.O_DIRECTORY, 0), name
        walk = self._walk(parent, follow_final=True, allow_missing=False)
        fd = self._walk_dir_fd(walk, parent)
        return fd, name

    def mkdir_all(self, rel: str, spec: DirSpec | None = None) -> int:
        """Create ``rel`` and its missing parents inside the root; return an O_PATH fd of it.

        Existing components (and symlinks to directories inside the root) are kept
        as they are; only created directories get ``spec``'s mode and owner.

        Raises:
            OSError: ``ENOTDIR`` when a component exists and is not a directory.
        """
        spec = spec or DirSpec()
        walk = self._walk(rel + "/", follow_final=True, allow_missing=False, create=spec)
        return self._walk_dir_fd(walk, rel)

    def subroot(self, rel: str, spec: DirSpec | None = None) -> Root:
        """A :class:`Root` for directory ``rel`` (created like :meth:`mkdir_all` if missing).

        The new root holds the descriptor the walk ended on, so it cannot be
        redirected later by a symlink swapped into the path.

        Raises:
            OSError: as :meth:`mkdir_all`.
        """
        fd = self.mkdir_all(rel, spec)
        sub = Root.__new__(Root)
        sub.path = os.path.join(self.path, self.resolve(rel).lstrip("/"))  # for messages only
        sub.fd = fd
        sub.use_openat2 = self.use_openat2
        return sub

    def lstat(self, rel: str) -> os.stat_result:
        """``lstat`` of ``rel`` inside the root (the final component is not followed)."""
        fd = self.open(rel, os.O_PATH, follow_final=False)
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` names anything (a dangling symlink counts)."""
        try:
            self.lstat(rel)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    # -- the manual walk ---------------------------------------------------------------

    def _open_walk(self, rel: str, flags: int, mode: int, follow_final: bool) -> int:
        walk = self._walk(rel, follow_final=follow_final, allow_missing=False)
        try:
            if walk.name is None:  # rel is a directory reached through "." or ".."
                if flags & os.O_PATH:
                    return os.dup(walk.parent)
                return os.open(".", flags | os.O_CLOEXEC, mode, dir_fd=walk.parent)
            if walk.fd is not None and flags & os.O_PATH:
                return os.dup(walk.fd)
            # Re-open by (parent, name) with O_NOFOLLOW: a symlink swapped in since
            # the walk fails with ELOOP instead of being followed.
            return os.open(walk.name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                           dir_fd=walk.parent)
        finally:
            walk.close()

    def _walk_dir_fd(self, walk: _Walk, rel: str) -> int:
        """Turn a walk that must end on a directory into an owned O_PATH fd of it."""
        fd = walk.fd
        walk.close(keep=fd)
        if fd is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), rel)
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), rel)
        return fd

    def _walk(self, rel: str, *, follow_final: bool, allow_missing: bool,
              create: DirSpec | None = None) -> _Walk:
        """Walk ``rel`` component by component; see :class:`_Walk` for the result.

        A trailing ``/`` or ``/.`` makes the final component followed (POSIX). With
        ``create``, missing components are made as directories. With
        ``allow_missing``, the first missing component ends the walk and the rest
        are recorded lexically in ``missing``.
        """
        if rel.endswith(("/", "/.")) or rel in (".", ""):
            follow_final = True
        todo = deque(split_path(rel))
        stack: list[tuple[str, int]] = []
        links = 0
        try:
            while todo:
                comp = todo.popleft()
                cur = stack[-1][1] if stack else self.fd
                if comp == "..":
                    if stack:
                        os.close(stack.pop()[1])
                    continue
                fd = self._lookup(cur, comp, create)
                if fd is None:
                    if not todo or allow_missing:
                        return self._finish(stack, comp, None, list(todo))
                    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT),
                                            _in_root(stack, comp))
                st_mode = os.fstat(fd).st_mode
                if stat.S_ISLNK(st_mode) and (todo or follow_final):
                    links += 1
                    _expand_link(fd, comp, links, stack, todo)
                    continue
                if not todo:
                    return self._finish(stack, comp, fd, [])
                if not stat.S_ISDIR(st_mode):
                    os.close(fd)
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                             _in_root(stack, comp))
                stack.append((comp, fd))
            # Ended on the root or on a directory reached by "..": it is its own result.
            top = stack[-1][1] if stack else self.fd
            names = [name for name, _ in stack]
            return _Walk(os.dup(top), None, os.dup(top), names)
        finally:
            _close_all(stack)

    def _lookup(self, dirfd: int, name: str, create: DirSpec | None) -> int | None:
        """O_PATH|O_NOFOLLOW-open ``name`` under ``dirfd``; None when missing and not created."""
        try:
            return os.open(name, _PATH_FLAGS, dir_fd=dirfd)
        except FileNotFoundError:
            if create is None:
                return None
        try:
            os.mkdir(name, 0o700, dir_fd=dirfd)
        except FileExistsError:
            pass  # lost a race with another creator: use what is there
        else:
            _apply_dir_spec(dirfd, name, create)
        return os.open(name, _PATH_FLAGS, dir_fd=dirfd)

    def _finish(self, stack: list[tuple[str, int]], name: str, fd: int | None,
                missing: list[str]) -> _Walk:
        cur = stack[-1][1] if stack else self.fd
        return _Walk(os.dup(cur), name, fd, [n for n, _ in stack], missing)


def _expand_link(fd: int, name: str, links: int, stack: list[tuple[str, int]],
                 todo: deque[str]) -> None:
    """Replace the symlink open at ``fd`` by its target's components, chroot-style.

    An absolute target restarts at the root (the stack is emptied); ``..`` in a
    relative one is handled by the walk, which never pops above the root.
    """
    target = os.readlink("", dir_fd=fd)  # the link already opened: no second lookup
    os.close(fd)
    if links > MAX_SYMLINKS:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), _in_root(stack, name))
    if target.startswith("/"):
        _close_all(stack)
    todo.extendleft(reversed(split_path(target)))


def _apply_dir_spec(dirfd: int, name: str, spec: DirSpec) -> None:
    """Set mode and owner of a just-created directory through its own descriptor."""
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
    try:
        if spec.uid is not None or spec.gid is not None:
            uid = -1 if spec.uid is None else spec.uid
            os.fchown(fd, uid, -1 if spec.gid is None else spec.gid)
        os.fchmod(fd, spec.mode)
    finally:
        os.close(fd)


def _close_all(stack: list[tuple[str, int]]) -> None:
    while stack:
        os.close(stack.pop()[1])


def _in_root(stack: list[tuple[str, int]], name: str) -> str:
    return "/" + "/".join([n for n, _ in stack] + [name])
