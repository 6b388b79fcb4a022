"""Filesystem changes that make a layer: from an overlay upper dir, or from two trees.

Both producers return a :class:`ChangeSet`: the host directory that holds the new
content plus sorted :class:`Change` values, which :mod:`hoist.layer.tarwriter`
turns into a tar. Directories are walked by descriptor (``os.scandir(fd)``) and
never through a symlink, so the work is proportional to what is walked: for an
overlay, only the upper dir (what the step changed), not the image.

Overlay rules are BuildKit's: a char-device 0/0 becomes a whiteout (dropped when
no lower layer shows the name); ``trusted.overlay.opaque`` or
``user.overlay.opaque`` = ``y`` marks an opaque directory; a
``trusted.overlay.redirect`` (or ``user.``) is refused; a directory that overlay
copied up only because something below it changed is left out.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from typing import Final, TypeVar

import msgspec

from hoist.errors import LayerError

OPAQUE_XATTRS: Final = ("trusted.overlay.opaque", "user.overlay.opaque")
REDIRECT_XATTRS: Final = ("trusted.overlay.redirect", "user.overlay.redirect")
METACOPY_XATTRS: Final = ("trusted.overlay.metacopy", "user.overlay.metacopy")
# Overlay bookkeeping that must never reach a layer or decide that a dir changed.
OVERLAY_XATTR_PREFIXES: Final = ("trusted.overlay.", "user.overlay.")


class Kind(enum.Enum):
    ADD = "add"  # added or modified: the entry is written from the new tree
    DELETE = "delete"  # a whiteout


class Change(msgspec.Struct, frozen=True):
    """One layer entry. ``path`` is relative to the tree root, without a leading ``/``."""

    path: str
    kind: Kind
    opaque: bool = False  # a directory whose lower contents are hidden


class ChangeSet(msgspec.Struct, frozen=True):
    """Changes in tar order, and the host directory holding their new content.

    ``left_out`` (overlay only): entries of the upper dir that are not layer
    entries, directories copied up only because something below them changed
    and whiteouts of names no lower shows; :func:`trim_upper` removes those
    that are not the parent of a change, so the dir holds what the layer tar does.
    """

    root: str
    changes: tuple[Change, ...]
    left_out: tuple[str, ...] = ()


def sort_key(path: str) -> tuple[str, ...]:
    """Tar order: depth first, parents before children, siblings by name."""
    return tuple(path.split("/"))


def overlay_changes(upper: str, lowers: Sequence[str]) -> ChangeSet:
    """Changes recorded in an overlayfs ``upper`` dir over ``lowers`` (topmost first).

    Raises:
        LayerError: the upper dir holds a redirect_dir xattr or cannot be read.
    """
    merged = _Lowers(lowers)
    walk = _UpperWalk(merged)
    try:
        with _DirFd(upper) as fd:
            changes = list(walk.walk(fd, ""))
    except OSError as exc:
        raise LayerError(f"computing the layer diff of {upper}: {exc.strerror}") from exc
    finally:
        merged.close()
    ordered = tuple(sorted(changes, key=lambda c: sort_key(c.path)))
    return ChangeSet(upper, ordered, tuple(walk.left_out))


def trim_upper(changes: ChangeSet) -> None:
    """Make the (unmounted) upper dir hold what the layer holds, and nothing else.

    An unchanged directory that overlay copied up (a mount stub's parent, say)
    is not in the layer tar; left in the dir, it would pin the metadata it had
    over *this* parent on every other stack that reuses the layer (the empty
    layer above a ``chmod 700 /etc`` would show ``/etc`` as 0755). Directories
    that are the parent of a change stay: the tar writes those too.

    Raises:
        LayerError: the dir cannot be changed.
    """
    if not changes.left_out:
        return
    parents = {p for c in changes.changes for p in _ancestors(c.path)}
    try:
        with _DirFd(changes.root) as fd:
            for path in sorted(changes.left_out, key=sort_key, reverse=True):  # children first
                if path in parents:
                    continue
                if stat.S_ISDIR(os.stat(path, dir_fd=fd, follow_symlinks=False).st_mode):
                    os.rmdir(path, dir_fd=fd)  # what was below it is left out too, and gone
                else:
                    os.unlink(path, dir_fd=fd)
    except OSError as exc:
        raise LayerError(f"trimming the layer dir {changes.root}: {exc.strerror}") from exc


def _ancestors(path: str) -> Iterator[str]:
    while "/" in path:
        path = path.rpartition("/")[0]
        yield path


def tree_changes(old: str | None, new: str) -> ChangeSet:
    """Changes that turn tree ``old`` into tree ``new`` (``old=None``: everything in new).

    Entries are compared by type, mode, owner, size, device, link target, xattrs
    and mtime; when the mtime has no sub-second part (a copy that lost it), file
    content is compared too.

    Raises:
        LayerError: a tree cannot be read.
    """
    try:
        with _DirFd(new) as new_fd:
            if old is None:
                changes = list(_all_below(new_fd, ""))
            else:
                with _DirFd(old) as old_fd:
                    changes = list(_compare_dirs(old_fd, new_fd, ""))
    except OSError as exc:
        raise LayerError(f"comparing {old} with {new}: {exc.strerror}") from exc
    return ChangeSet(new, tuple(sorted(changes, key=lambda c: sort_key(c.path))))


# -- overlay ------------------------------------------------------------------------


class _UpperWalk:
    """One walk of an upper dir: the changes, and the entries it leaves out of the layer."""

    def __init__(self, lowers: _Lowers) -> None:
        self.lowers = lowers
        self.left_out: list[str] = []

    def walk(self, dirfd: int, prefix: str, fresh: bool = False) -> Iterator[Change]:
        """The changes below one upper dir; ``fresh``: the lowers show nothing below it."""
        for entry in _entries(dirfd):
            path = prefix + entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                if not fresh and self.lowers.lookup(path) is not None:
                    yield Change(path, Kind.DELETE)
                else:
                    self.left_out.append(path)  # hides nothing
                continue
            if not stat.S_ISDIR(st.st_mode):
                if stat.S_ISREG(st.st_mode) and st.st_blocks == 0:
                    # only a file with no data blocks can be metacopy-only: checking every
                    # file would cost a procfs lookup and a listxattr each (2,000 in a
                    # node_modules RUN)
                    _refuse_metacopy(dirfd, entry.name, path)
                yield Change(path, Kind.ADD)
                continue
            with _DirFd(entry.name, dirfd) as child:
                yield from self._dir(child, path, st, fresh)

    def _dir(self, fd: int, path: str, st: os.stat_result, fresh: bool) -> Iterator[Change]:
        names = os.listxattr(fd)
        for name in REDIRECT_XATTRS:
            if name in names:
                raise LayerError(
                    f"computing the layer diff: {path} was renamed with overlay redirect_dir, "
                    "which hoist does not support",
                    hint="mount overlayfs with redirect_dir=off",
                )
        opaque = _opaque_fd(fd)
        below = None if fresh else self.lowers.lookup(path)
        if opaque or below is None or not _same_dir(fd, st, below):
            yield Change(path, Kind.ADD, opaque=opaque)
        else:
            self.left_out.append(path)  # copied up only because something below it changed
        # below a new dir, an opaque one or one that replaced a non-directory the lowers
        # show nothing: no lookups there (a COPY of a new tree costs no lower walks), and
        # every subdirectory is an entry of its own
        hidden = opaque or below is None or not stat.S_ISDIR(below.st.st_mode)
        yield from self.walk(fd, path + "/", fresh or hidden)


def _refuse_metacopy(dirfd: int, name: str, path: str) -> None:
    """A metacopy-only upper file has no data of its own: it cannot become a layer entry."""
    names = os.listxattr(f"/proc/self/fd/{dirfd}/{name}", follow_symlinks=False)
    if any(n in METACOPY_XATTRS for n in names):
        raise LayerError(
            f"computing the layer diff: {path} is an overlay metacopy file",
            hint="mount overlayfs with metacopy=off",
        )


def _same_dir(fd: int, st: os.stat_result, lower: _Below) -> bool:
    lst = lower.st
    if not stat.S_ISDIR(lst.st_mode):
        return False
    if (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns) != (
        lst.st_mode, lst.st_uid, lst.st_gid, lst.st_mtime_ns
    ):
        return False
    return xattrs_of(fd) == lower.xattrs


class _Below(msgspec.Struct, frozen=True):
    """What the merged lowers show at a path: its stat, and xattrs when it is a directory."""

    st: os.stat_result
    xattrs: dict[str, bytes]


class _Lowers:
    """The merged view of read-only lower layer dirs, in overlay format."""

    def __init__(self, lowers: Sequence[str]) -> None:
        self._fds: list[int] = []
        for path in lowers:
            self._fds.append(os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def lookup(self, path: str) -> _Below | None:
        """What the merged lowers show at ``path``, or None."""
        for layer in self._fds:
            found, stop = self._in_layer(layer, path.split("/"))
            if found is not None or stop:
                return found
        return None

    def _in_layer(self, layer: int, parts: list[str]) -> tuple[_Below | None, bool]:
        """Look ``parts`` up in one layer; ``stop`` when lower layers are hidden there."""
        cur = os.dup(layer)
        try:
            for i, part in enumerate(parts):
                try:  # O_PATH: never opens a device or FIFO found in a layer
                    nxt = os.open(part, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
                except OSError as exc:
                    return None, _hides(exc)
                os.close(cur)
                cur = nxt
                st = os.fstat(cur)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    return None, True  # a whiteout
                if i == len(parts) - 1:
                    xattrs = _on_dir(cur, xattrs_of) if stat.S_ISDIR(st.st_mode) else {}
                    return _Below(st, xattrs), True
                if not stat.S_ISDIR(st.st_mode):
                    return None, True  # a non-directory hides everything below its name
                if _on_dir(cur, _opaque_fd):
                    return self._in_layer(cur, parts[i + 1 :])[0], True
            return None, False
        finally:
            os.close(cur)


def _hides(exc: OSError) -> bool:
    """Whether a failed lookup means this layer hides the name from lower layers."""
    if exc.errno == errno.ENOENT:
        return False
    raise exc


_T = TypeVar("_T")


def _on_dir(path_fd: int, read: Callable[[int], _T]) -> _T:
    """``read`` of a readable descriptor of the directory that O_PATH ``path_fd`` names."""
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=path_fd)
    try:
        return read(fd)
    finally:
        os.close(fd)


def _opaque_fd(fd: int) -> bool:
    for name in OPAQUE_XATTRS:
        try:
            if os.getxattr(fd, name) == b"y":
                return True
        except OSError:
            continue
    return False


# -- two trees ----------------------------------------------------------------------


def _all_below(dirfd: int, prefix: str) -> Iterator[Change]:
    for entry in _entries(dirfd):
        path = prefix + entry.name
        if stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode):
            continue
        yield Change(path, Kind.ADD)
        if entry.is_dir(follow_symlinks=False):
            with _DirFd(entry.name, dirfd) as child:
                yield from _all_below(child, path + "/")


def _compare_dirs(old_fd: int, new_fd: int, prefix: str) -> Iterator[Change]:
    old = {e.name: e for e in _entries(old_fd)}
    new = {e.name: e for e in _entries(new_fd)}
    for name in sorted(old.keys() - new.keys()):
        yield Change(prefix + name, Kind.DELETE)
    for name in sorted(new):
        entry, path = new[name], prefix + name
        nst = entry.stat(follow_symlinks=False)
        if stat.S_ISSOCK(nst.st_mode):
            continue
        before = old.get(name)
        ost = None if before is None else before.stat(follow_symlinks=False)
        if ost is None or not _same_entry(old_fd, new_fd, name, ost, nst):
            yield Change(path, Kind.ADD)
        if not stat.S_ISDIR(nst.st_mode):
            continue
        with _DirFd(name, new_fd) as child:
            if before is not None and before.is_dir(follow_symlinks=False):
                with _DirFd(name, old_fd) as old_child:
                    yield from _compare_dirs(old_child, child, path + "/")
            else:
                yield from _all_below(child, path + "/")


def _same_entry(old_fd: int, new_fd: int, name: str, ost: os.stat_result,
                nst: os.stat_result) -> bool:
    if (ost.st_mode, ost.st_uid, ost.st_gid, ost.st_rdev, ost.st_mtime_ns) != (
        nst.st_mode, nst.st_uid, nst.st_gid, nst.st_rdev, nst.st_mtime_ns
    ):
        return False
    if not stat.S_ISDIR(nst.st_mode) and ost.st_size != nst.st_size:
        return False
    if stat.S_ISLNK(nst.st_mode):
        return os.readlink(name, dir_fd=old_fd) == os.readlink(name, dir_fd=new_fd)
    if _entry_xattrs(old_fd, name, ost) != _entry_xattrs(new_fd, name, nst):
        return False
    if stat.S_ISREG(nst.st_mode) and nst.st_mtime_ns % 1_000_000_000 == 0:
        return _same_content(old_fd, new_fd, name)
    return True


def _same_content(old_fd: int, new_fd: int, name: str) -> bool:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    a = os.open(name, flags, dir_fd=old_fd)
    try:
        b = os.open(name, flags, dir_fd=new_fd)
        try:
            while True:
                x, y = os.read(a, 1 << 20), os.read(b, 1 << 20)
                if x != y:
                    return False
                if not x:
                    return True
        finally:
            os.close(b)
    finally:
        os.close(a)


def _entry_xattrs(dirfd: int, name: str, st: os.stat_result) -> dict[str, bytes]:
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return {}  # xattrs on other types are not carried
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dirfd)
    try:
        return xattrs_of(fd)
    finally:
        os.close(fd)


# -- shared helpers -----------------------------------------------------------------


def xattrs_of(fd: int) -> dict[str, bytes]:
    """The xattrs of an open file that belong in a layer (overlay bookkeeping left out)."""
    try:
        names = os.listxattr(fd)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise
    return {
        name: os.getxattr(fd, name)
        for name in sorted(names)
        if not name.startswith(OVERLAY_XATTR_PREFIXES)
    }


def _entries(dirfd: int) -> list[os.DirEntry[str]]:
    with os.scandir(dirfd) as it:
        return sorted(it, key=lambda e: e.name)


class _DirFd:
    """An O_RDONLY|O_DIRECTORY|O_NOFOLLOW descriptor, closed on exit."""

    def __init__(self, path: str, dir_fd: int | None = None) -> None:
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
        if dir_fd is not None:
            flags |= os.O_NOFOLLOW
        self.fd = os.open(path, flags, dir_fd=dir_fd)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
