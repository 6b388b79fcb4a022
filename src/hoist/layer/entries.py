"""Creating one tar entry inside a :class:`Root`: names, whiteouts, files, links, metadata.

Every entry is created relative to a pinned parent directory descriptor obtained
from the root, with ``O_NOFOLLOW``/``O_EXCL`` on the final component; metadata is
set through the new file's own descriptor (``fchown`` → xattrs → ``fchmod`` →
``futimens``: chown clears setuid bits and capabilities, so it goes first).
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Callable
from typing import Final

import msgspec

from hoist.errors import ArchiveError, LayerError
from hoist.fs.resolve import DirSpec, Root

_MAX_ID: Final = 0xFFFFFFFE  # 2**32-1 means "leave unchanged" to chown(2)
_OVERLAY_XATTRS: Final = ("trusted.overlay.", "user.overlay.")
_CHUNK: Final = 1 << 20
_IS_ROOT: Final = os.geteuid() == 0


class Whiteout(msgspec.Struct, frozen=True):
    """A whiteout entry: ``name`` removed from ``parent``, or ``parent`` made opaque."""

    parent: str
    name: str | None
    opaque: bool = False
    meta: bool = False  # aufs ``.wh..wh.*`` bookkeeping other than the opaque marker


def clean_name(name: str) -> str:
    """Clean an entry name; ``""`` is the root itself.

    Raises:
        ArchiveError: the name escapes the destination after cleaning.
    """
    # A leading "/" is dropped first, so "/../x" is judged like "../x" (as docker does).
    cleaned = posixpath.normpath(name.lstrip("/") or ".")
    if cleaned == ".." or cleaned.startswith("../"):
        raise ArchiveError(f"extracting entry {name!r}: the name escapes the destination")
    return "" if cleaned == "." else cleaned


def parse_whiteout(path: str) -> Whiteout | None:
    """Recognise ``.wh.`` entries in a cleaned path.

    Raises:
        ArchiveError: an invalid whiteout (``.wh.``, ``.wh..``, ``.wh...``, or a
            whiteout name in the middle of a path).
    """
    parent, _, base = path.rpartition("/")
    if any(part.startswith(".wh.") for part in parent.split("/")):
        raise ArchiveError(f"extracting entry {path!r}: invalid whiteout entry in a parent")
    if not base.startswith(".wh."):
        return None
    if base == ".wh..wh..opq":
        return Whiteout(parent, None, opaque=True)
    if base.startswith(".wh..wh."):
        return Whiteout(parent, None, meta=True)
    name = base[len(".wh.") :]
    if name in ("", ".", ".."):
        raise ArchiveError(f"extracting entry {path!r}: invalid whiteout entry")
    return Whiteout(parent, name)


class EntryWriter:
    """Creates entries inside ``root``; call :meth:`finish` after the last one."""

    def __init__(self, root: Root, track: bool) -> None:
        self.root = root
        self._track = track  # remember created paths, for opaque dirs in "remove" format
        self._created: set[str] = set()
        self._dir_times: list[tuple[str, int]] = []
        self.tick: Callable[[], None] = _no_deadline
        self._buf = memoryview(bytearray(_CHUNK))  # one buffer for every file

    # -- entries -------------------------------------------------------------------------

    def entry(self, path: str, member: tarfile.TarInfo, tf: tarfile.TarFile) -> bool:
        """Create one entry; False when it was skipped (devices without root, sockets).

        Raises:
            ArchiveError: hostile or inconsistent entry. OSError: the write failed.
        """
        _check_ids(member)
        if path == "":
            if not member.isdir():
                raise ArchiveError(f"extracting entry {member.name!r}: the root must be a dir")
            fd = self.root.open(".", os.O_RDONLY | os.O_DIRECTORY)
            self._dir_meta(fd, "", member)
            return True
        dirfd, name = self._parent(path)
        try:
            if not self._make(dirfd, name, path, member, tf):
                return False
        finally:
            os.close(dirfd)
        if self._track:
            self._created.add(path)
        return True

    def _make(self, dirfd: int, name: str, path: str, member: tarfile.TarInfo,
              tf: tarfile.TarFile) -> bool:
        if (member.ischr() or member.isblk()) and not _IS_ROOT:
            return False  # never create device nodes without root (SECURITY.md D4)
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()
                or member.ischr() or member.isblk() or member.isfifo()):
            return False
        self._clear(dirfd, name, keep_dir=member.isdir())
        if member.isreg():
            self._file(dirfd, name, member, tf)
        elif member.isdir():
            self._dir(dirfd, name, path, member)
        elif member.issym():
            self._symlink(dirfd, name, member)
        elif member.islnk():
            self._hardlink(dirfd, name, member)
        else:
            return self._node(dirfd, name, member)
        return True

    def _parent(self, path: str) -> tuple[int, str]:
        try:
            return self.root.open_parent(path)
        except FileNotFoundError:
            head, _, base = path.rpartition("/")
            return self.root.mkdir_all(head, DirSpec(0o755, 0, 0) if _IS_ROOT else None), base

    def _clear(self, dirfd: int, name: str, *, keep_dir: bool) -> None:
        try:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if keep_dir and stat.S_ISDIR(st.st_mode):
            return
        _remove_at(dirfd, name, st)

    def _file(self, dirfd: int, name: str, member: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(name, flags, 0o600, dir_fd=dirfd)
        try:
            self._copy(fd, member, tf)
            _meta_fd(fd, member)
        finally:
            os.close(fd)

    def _copy(self, fd: int, member: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        reader = tf.extractfile(member)
        assert reader is not None  # a regular member always has a reader
        buf = self._buf
        left = member.size
        while left:
            got = reader.readinto(buf[: min(left, _CHUNK)])  # type: ignore[attr-defined]
            if not got:
                raise ArchiveError(f"extracting entry {member.name!r}: unexpected end of data")
            os.write(fd, buf[:got])
            left -= got
            self.tick()

    def _dir(self, dirfd: int, name: str, path: str, member: tarfile.TarInfo) -> None:
        try:
            os.mkdir(name, 0o700, dir_fd=dirfd)
        except FileExistsError:
            pass  # merging into an existing directory
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                     dir_fd=dirfd)
        self._dir_meta(fd, path, member)

    def _dir_meta(self, fd: int, path: str, member: tarfile.TarInfo) -> None:
        try:
            _meta_fd(fd, member, times=False)
        finally:
            os.close(fd)
        # A directory's mtime changes as children arrive: set it when all are in.
        self._dir_times.append((path, int(member.mtime * 1_000_000_000)))

    def _symlink(self, dirfd: int, name: str, member: tarfile.TarInfo) -> None:
        os.symlink(member.linkname, name, dir_fd=dirfd)  # the target is stored verbatim
        if _IS_ROOT:
            _unmapped_ok(lambda: os.chown(name, member.uid, member.gid, dir_fd=dirfd,
                                          follow_symlinks=False))
        ns = int(member.mtime * 1_000_000_000)
        os.utime(name, ns=(ns, ns), dir_fd=dirfd, follow_symlinks=False)

    def _hardlink(self, dirfd: int, name: str, member: tarfile.TarInfo) -> None:
        try:
            target = clean_name(member.linkname)
        except ArchiveError as exc:
            raise ArchiveError(
                f"extracting hardlink {member.name!r} -> {member.linkname!r}: "
                "the target escapes the destination"
            ) from exc
        try:
            src = self.root.open(target, os.O_PATH, follow_final=False)
        except OSError as exc:
            raise ArchiveError(
                f"extracting hardlink {member.name!r} -> {member.linkname!r}: "
                "the target is not an earlier entry inside the destination"
            ) from exc
        try:
            if stat.S_ISDIR(os.fstat(src).st_mode):
                raise ArchiveError(f"extracting hardlink {member.name!r}: target is a directory")
            # linkat through the O_PATH descriptor: the inode already resolved inside the root.
            os.link(f"/proc/self/fd/{src}", name, dst_dir_fd=dirfd, follow_symlinks=True)
        finally:
            os.close(src)

    def _node(self, dirfd: int, name: str, member: tarfile.TarInfo) -> bool:
        if member.isfifo():
            os.mkfifo(name, 0o600, dir_fd=dirfd)
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            try:
                os.mknod(name, kind | 0o600, os.makedev(member.devmajor, member.devminor),
                         dir_fd=dirfd)
            except PermissionError:
                return False  # uid 0 in a user namespace: no CAP_MKNOD, skip like non-root
        fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
        try:
            # O_PATH cannot fchmod; the magic link reaches exactly this inode.
            proc = f"/proc/self/fd/{fd}"
            if _IS_ROOT:
                _unmapped_ok(lambda: os.chown(proc, member.uid, member.gid))
            os.chmod(proc, member.mode & 0o7777)
            ns = int(member.mtime * 1_000_000_000)
            os.utime(proc, ns=(ns, ns))
        finally:
            os.close(fd)
        return True

    # -- whiteouts -----------------------------------------------------------------------

    def whiteout(self, wh: Whiteout, *, overlay: bool) -> None:
        """Apply a whiteout in overlay form (device / xattr) or by removing.

        Raises:
            LayerError: overlay whiteouts without root. OSError: the change failed.
        """
        if wh.meta:
            return
        if overlay and not _IS_ROOT:
            raise LayerError("extracting a layer for overlayfs: whiteouts need root")
        if wh.opaque:
            self._opaque(wh.parent, overlay)
            return
        assert wh.name is not None
        path = f"{wh.parent}/{wh.name}" if wh.parent else wh.name
        if overlay:
            dirfd, name = self._parent(path)
            try:
                self._clear(dirfd, name, keep_dir=False)
                os.mknod(name, stat.S_IFCHR, os.makedev(0, 0), dir_fd=dirfd)
            finally:
                os.close(dirfd)
            return
        self._remove(path)

    def _opaque(self, parent: str, overlay: bool) -> None:
        pfd = self.root.mkdir_all(parent or ".")
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=pfd)
        os.close(pfd)
        try:
            if overlay:
                os.setxattr(fd, "trusted.overlay.opaque", b"y")
                return
            prefix = parent + "/" if parent else ""
            for entry in sorted(os.listdir(fd)):
                if prefix + entry not in self._created:
                    _remove_at(fd, entry, os.stat(entry, dir_fd=fd, follow_symlinks=False))
        finally:
            os.close(fd)

    def _remove(self, path: str) -> None:
        try:
            dirfd, name = self.root.open_parent(path)
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing there to hide
        try:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            _remove_at(dirfd, name, st)
        except FileNotFoundError:
            pass
        finally:
            os.close(dirfd)

    # -- end -----------------------------------------------------------------------------

    def finish(self) -> None:
        """Set directory mtimes, deepest last-written first, now that children are in."""
        for path, ns in reversed(self._dir_times):
            try:
                fd = self.root.open(path or ".", os.O_RDONLY | os.O_DIRECTORY,
                                    follow_final=False)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                    continue  # replaced or removed by a later entry
                raise
            try:
                os.utime(fd, ns=(ns, ns))
            finally:
                os.close(fd)


def _unmapped_ok(chown: Callable[[], None]) -> None:
    """Run a chown; an id with no mapping in this user namespace (EINVAL) keeps our own."""
    try:
        chown()
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise


def _no_deadline() -> None:
    return None


def _check_ids(member: tarfile.TarInfo) -> None:
    if not (0 <= member.uid <= _MAX_ID and 0 <= member.gid <= _MAX_ID):
        raise ArchiveError(
            f"extracting entry {member.name!r}: invalid owner {member.uid}:{member.gid}"
        )


def _meta_fd(fd: int, member: tarfile.TarInfo, *, times: bool = True) -> None:
    if _IS_ROOT:
        _unmapped_ok(lambda: os.fchown(fd, member.uid, member.gid))
    _xattrs_fd(fd, member)
    os.fchmod(fd, member.mode & 0o7777)
    if times:
        ns = int(member.mtime * 1_000_000_000)
        os.utime(fd, ns=(ns, ns))


def _xattrs_fd(fd: int, member: tarfile.TarInfo) -> None:
    for key, value in member.pax_headers.items():
        if not key.startswith("SCHILY.xattr."):
            continue
        name = key[len("SCHILY.xattr.") :]
        if name.startswith(_OVERLAY_XATTRS):
            continue  # overlay bookkeeping from a hostile layer is stripped (D4)
        try:
            os.setxattr(fd, name, value.encode("utf-8", "surrogateescape"))
        except OSError as exc:
            if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
                continue
            if exc.errno == errno.EPERM and not _IS_ROOT:
                continue
            raise


def _remove_at(dirfd: int, name: str, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dirfd)  # fd-based walk: never follows a symlink
    else:
        os.unlink(name, dir_fd=dirfd)
