"""The deterministic layer tar writer, hashed once while it is written.

Output is a function of the changes and the tree only: entries in
:func:`~hoist.layer.changes.sort_key` order, PAX format, numeric uid/gid with
empty user and group names, whole-second mtimes (clamped to
``SOURCE_DATE_EPOCH`` when given), no atime/ctime, hardlinks by ``(st_dev,
st_ino)`` among the layer's own entries, xattrs (``security.capability`` too) as
``SCHILY.xattr.*`` records, and the two-block end marker without record padding.
Sockets are skipped (they cannot be carried in a tar).

Every byte goes through one ``sha256`` on its way to ``out``: the digest is the
layer's diff_id, and nothing is read twice. File data moves in 1 MiB chunks; for
a big file (8 MiB or more) chunk *k* is hashed on a helper thread while chunk
*k+1* is read and chunk *k* written (``hashlib`` releases the GIL on large
buffers, and at about 1 GB/s hashing is the costliest part), in order, with two
buffers so that no chunk is overwritten before it is hashed.

Plain files (regular, not hardlinked, below 1 MiB, no xattrs, a header without
PAX records: nearly every file of a package tree) take a short path: a stat and
an open in the parent directory (its descriptor kept while its files are
written), one read, and header, data and padding hashed and written as one
(:meth:`_TarWriter.plain_file`); the bytes are the same as the general path's.

Headers: an entry that needs no PAX record (ASCII name and link target of at
most 100 bytes, numbers that fit their octal fields, no xattrs) gets its ustar
header from :func:`ustar_header`, byte for byte what ``tarfile`` writes for it
in PAX format but without ``tarfile``'s per-entry dict and checks (a sizeable
part of writing a 20,000-file layer); every other entry goes through ``tarfile``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from typing import TYPE_CHECKING, BinaryIO, Final

import msgspec

from hoist.errors import LayerError
from hoist.fs.resolve import Root
from hoist.layer.changes import Change, ChangeSet, Kind, tree_changes, xattrs_of
from hoist.models import Digest

if TYPE_CHECKING:
    from concurrent.futures import Future

WHITEOUT_PREFIX: Final = ".wh."
OPAQUE_MARKER: Final = ".wh..wh..opq"
_BLOCK: Final = 512
_CHUNK: Final = 1 << 20
_PIPELINE_MIN: Final = 8 * _CHUNK
_NOFOLLOW: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_DEVICE_TYPES: Final = (tarfile.CHRTYPE, tarfile.BLKTYPE)
_NO_DEVICE: Final = bytes(16)
_TAIL: Final = b"ustar\x0000" + bytes(32 + 32)  # magic, version, empty uname and gname
_PREFIX: Final = bytes(155 + 12)  # empty prefix, then padding to 512


class LayerDigest(msgspec.Struct, frozen=True):
    """The diff_id (sha256 of the uncompressed tar) and the tar's size in bytes."""

    diff_id: Digest
    size: int


def write_layer(changeset: ChangeSet, out: BinaryIO, *,
                source_date_epoch: int | None = None) -> LayerDigest:
    """Write the changes as a layer tar to ``out``; return its diff_id and size.

    ``out`` is written sequentially and not closed.

    Raises:
        LayerError: a changed entry cannot be read (vanished, unreadable…).
    """
    writer = _TarWriter(out, source_date_epoch)
    try:
        root = Root(changeset.root)
    except OSError as exc:
        raise LayerError(f"writing a layer from {changeset.root}: {exc.strerror}") from exc
    with root:
        try:
            for change in changeset.changes:
                _write_change(writer, root, change)
        finally:
            writer.close()
    return writer.finish()


def _write_change(writer: _TarWriter, root: Root, change: Change) -> None:
    try:
        writer.parents(root, change.path)
        if change.kind is Kind.DELETE:
            writer.whiteout(change.path)
        elif not writer.plain_file(root, change.path):
            writer.entry(root, change.path)
            if change.opaque:
                writer.marker(change.path + "/" + OPAQUE_MARKER)
    except OSError as exc:
        raise LayerError(f"writing layer entry {change.path}: {exc.strerror}") from exc


def write_tree(
    root_dir: str, out: BinaryIO, *, source_date_epoch: int | None = None
) -> LayerDigest:
    """Write every entry below ``root_dir`` as a layer tar (no whiteouts).

    Raises:
        LayerError: the tree cannot be read.
    """
    return write_layer(tree_changes(None, root_dir), out, source_date_epoch=source_date_epoch)


def source_date_epoch_from_env(env: dict[str, str] | None = None) -> int | None:
    """``SOURCE_DATE_EPOCH`` as an int, or None when unset or empty.

    Raises:
        LayerError: it is set but not a non-negative integer.
    """
    value = (os.environ if env is None else env).get("SOURCE_DATE_EPOCH", "")
    if not value:
        return None
    if not value.isdigit():
        raise LayerError(f"reading SOURCE_DATE_EPOCH: {value!r} is not a number of seconds")
    return int(value)


def ustar_header(info: tarfile.TarInfo) -> bytes | None:
    """The 512-byte header ``tarfile`` writes for ``info`` in PAX format, when it needs no
    PAX record and has empty user and group names; None otherwise (use ``tarfile``)."""
    name, link = info.name, info.linkname
    if info.pax_headers or info.uname or info.gname:
        return None
    if not _fits_ustar(name, link, info.uid, info.gid, info.size, info.mtime):
        return None
    if info.type == tarfile.DIRTYPE and not name.endswith("/"):
        return None  # tarfile appends the slash; keep that rule in one place
    devices = _device_fields(info)
    if devices is None or not isinstance(info.mtime, int):
        return None
    return _ustar(name.encode(), link.encode(), info.mode, info.uid, info.gid, info.size,
                  info.mtime, info.type, devices)  # fmt: skip


def _fits_ustar(name: str, link: str, uid: int, gid: int, size: int, mtime: int) -> bool:
    """Whether these fields fit a ustar header as they are (no PAX record needed)."""
    if len(name) > 100 or len(link) > 100 or not (name.isascii() and link.isascii()):
        return False
    if not (0 <= uid < 0o10000000 and 0 <= gid < 0o10000000):
        return False
    return 0 <= size < 0o100000000000 and 0 <= mtime < 0o100000000000


def _mtime(st: os.stat_result, epoch: int | None) -> int:
    """A whole-second mtime, clamped to ``SOURCE_DATE_EPOCH`` when given."""
    mtime = int(st.st_mtime)
    return mtime if epoch is None else min(mtime, epoch)


def _ustar(name: bytes, link: bytes, mode: int, uid: int, gid: int, size: int, mtime: int,
           kind: bytes, devices: bytes) -> bytes:  # fmt: skip
    """The 512-byte ustar header of fields already checked to fit."""
    head = b"%s%07o\0%07o\0%07o\0%011o\0%011o\0        %s%s" % (
        name.ljust(100, b"\0"),
        mode & 0o7777,
        uid,
        gid,
        size,
        mtime,
        kind,
        link.ljust(100, b"\0"),
    )
    block = head + _TAIL + devices + _PREFIX
    # checksum: sum of the header bytes with its own field read as spaces (as it is here)
    return block[:148] + b"%06o\0" % sum(block) + block[155:]


def _plain_header(path: str, st: os.stat_result, epoch: int | None) -> bytes | None:
    """The header of a regular file that needs no PAX record, or None (use ``tarfile``)."""
    mtime = _mtime(st, epoch)
    if not _fits_ustar(path, "", st.st_uid, st.st_gid, st.st_size, mtime):
        return None
    return _ustar(path.encode(), b"", st.st_mode, st.st_uid, st.st_gid, st.st_size, mtime,
                  tarfile.REGTYPE, _NO_DEVICE)  # fmt: skip


def _read_all(fd: int, size: int, path: str) -> bytes:
    """Exactly ``size`` bytes of an open file.

    Raises:
        LayerError: the file ended early (it shrank while read).
    """
    data = os.read(fd, size)
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            raise LayerError(f"writing layer entry {path}: file shrank while read")
        data += more
    return data


def _device_fields(info: tarfile.TarInfo) -> bytes | None:
    if info.type not in _DEVICE_TYPES:
        return _NO_DEVICE
    if not (0 <= info.devmajor < 0o10000000 and 0 <= info.devminor < 0o10000000):
        return None
    return b"%07o\0%07o\0" % (info.devmajor, info.devminor)


def _read_chunk(fd: int, view: memoryview, left: int, info: tarfile.TarInfo) -> int:
    """Read up to one chunk of the ``left`` bytes still due into ``view``.

    Raises:
        LayerError: the file ended early (it shrank while read).
    """
    got = os.readv(fd, [view[: min(left, _CHUNK)]])
    if got == 0:
        raise LayerError(f"writing layer entry {info.name}: file shrank while read")
    return got


class _TarWriter:
    def __init__(self, out: BinaryIO, epoch: int | None) -> None:
        self._out = out
        self._hash = hashlib.sha256()
        self._size = 0
        self._epoch = epoch
        self._links: dict[tuple[int, int], str] = {}
        self._dirs: set[str] = set()
        self._buf = bytearray(_CHUNK)
        self._parent: tuple[str, int] | None = None  # the last parent dir opened, O_PATH

    def close(self) -> None:
        if self._parent is not None:
            os.close(self._parent[1])
            self._parent = None

    def plain_file(self, root: Root, path: str) -> bool:
        """Write ``path`` if it is a plain regular file; False (nothing written) otherwise.

        Plain: not hardlinked, below 1 MiB, no xattrs, a header without PAX
        records. It is one stat and one open in its (cached) parent directory,
        one read, and one hashed write of header, data and padding: no
        ``TarInfo``, no O_PATH descriptor reopened through /proc. It is opened
        only once the stat says it is a regular file (O_NONBLOCK, O_NOFOLLOW),
        and checked to be the same file after: nothing else writes to a
        finished snapshot, and a FIFO or device is never opened.
        """
        parent, _, name = path.rpartition("/")
        dirfd = self._parent_fd(root, parent)
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or st.st_size >= _CHUNK:
            return False
        header = _plain_header(path, st, self._epoch)
        if header is None:
            return False
        fd = os.open(name, _NOFOLLOW, dir_fd=dirfd)
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino, now.st_size) != (st.st_dev, st.st_ino, st.st_size):
                raise LayerError(f"writing layer entry {path}: changed while read")
            if xattrs_of(fd):
                return False
            data = _read_all(fd, st.st_size, path)
        finally:
            os.close(fd)
        self._write(header + data + bytes(-st.st_size % _BLOCK))
        return True

    def _parent_fd(self, root: Root, parent: str) -> int:
        if self._parent is not None and self._parent[0] == parent:
            return self._parent[1]
        fd = root.open(parent, os.O_PATH | os.O_DIRECTORY, follow_final=False)
        self.close()
        self._parent = (parent, fd)
        return fd

    def parents(self, root: Root, path: str) -> None:
        """Emit the directories above ``path`` not written yet, from the new tree.

        A change stream leaves out directories that did not change, but the tar
        carries them anyway (as containerd does): an extractor that had to invent a
        missing parent would give it made-up metadata (a 1777 /tmp would become 0755).
        """
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in self._dirs:
                self.entry(root, parent)

    def entry(self, root: Root, path: str) -> None:
        fd = root.open(path, os.O_PATH, follow_final=False)
        try:
            st = os.fstat(fd)
            info = self._info(path, st)
            if info is None:
                return
            if stat.S_ISLNK(st.st_mode):
                info.linkname = os.readlink("", dir_fd=fd)
            elif stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                self._regular_or_dir(fd, info, st)
                return
            self._emit(info)
        finally:
            os.close(fd)

    def whiteout(self, path: str) -> None:
        head, _, base = path.rpartition("/")
        self.marker((head + "/" if head else "") + WHITEOUT_PREFIX + base)

    def marker(self, path: str) -> None:
        info = tarfile.TarInfo(path)
        info.mode, info.mtime, info.uname, info.gname = 0, 0, "", ""
        self._emit(info)

    def finish(self) -> LayerDigest:
        self._write(bytes(2 * _BLOCK))
        return LayerDigest(Digest.from_hex(self._hash.hexdigest()), self._size)

    def _info(self, path: str, st: os.stat_result) -> tarfile.TarInfo | None:
        mode = st.st_mode
        info = tarfile.TarInfo(path + "/" if stat.S_ISDIR(mode) else path)
        info.mode = stat.S_IMODE(mode)
        info.uid, info.gid, info.uname, info.gname = st.st_uid, st.st_gid, "", ""
        info.mtime = _mtime(st, self._epoch)
        if stat.S_ISDIR(mode):
            info.type = tarfile.DIRTYPE
            self._dirs.add(path)
        elif stat.S_ISREG(mode):
            info.type, info.size = tarfile.REGTYPE, st.st_size
        elif stat.S_ISLNK(mode):
            info.type = tarfile.SYMTYPE
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISFIFO(mode):
            info.type = tarfile.FIFOTYPE
        else:
            return None  # sockets
        return info

    def _regular_or_dir(self, path_fd: int, info: tarfile.TarInfo, st: os.stat_result) -> None:
        key = (st.st_dev, st.st_ino)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            first = self._links.get(key)
            if first is not None:
                info.type, info.linkname, info.size = tarfile.LNKTYPE, first, 0
                self._emit(info)
                return
            self._links[key] = info.name
        fd = os.open(".", _NOFOLLOW, dir_fd=path_fd) if stat.S_ISDIR(st.st_mode) else \
            os.open(f"/proc/self/fd/{path_fd}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            for name, value in xattrs_of(fd).items():
                info.pax_headers["SCHILY.xattr." + name] = value.decode("utf-8", "surrogateescape")
            self._emit(info)
            if info.type == tarfile.REGTYPE:
                self._copy(fd, info)
        finally:
            os.close(fd)

    def _emit(self, info: tarfile.TarInfo) -> None:
        header = ustar_header(info)
        if header is None:
            header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        self._write(header)

    def _copy(self, fd: int, info: tarfile.TarInfo) -> None:
        if info.size >= _PIPELINE_MIN:
            self._copy_pipelined(fd, info)
        else:
            left, view = info.size, memoryview(self._buf)
            while left:
                got = _read_chunk(fd, view, left, info)
                self._write(view[:got])
                left -= got
        pad = -info.size % _BLOCK
        if pad:
            self._write(bytes(pad))

    def _copy_pipelined(self, fd: int, info: tarfile.TarInfo) -> None:
        """Copy a big file's data, hashing each chunk on a helper thread (see the module)."""
        views = (memoryview(self._buf), memoryview(bytearray(_CHUNK)))
        left, turn = info.size, 0
        from concurrent.futures import ThreadPoolExecutor  # big files only: it brings logging

        hashing: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hoist-hash") as hasher:
            while left:
                view = views[turn]
                got = _read_chunk(fd, view, left, info)
                if hashing is not None:
                    hashing.result()  # the previous chunk is hashed: order kept, buffer free
                hashing = hasher.submit(self._hash.update, view[:got])
                self._out.write(view[:got])
                self._size += got
                left, turn = left - got, 1 - turn
            if hashing is not None:
                hashing.result()

    def _write(self, data: bytes | memoryview) -> None:
        self._hash.update(data)
        self._out.write(data)
        self._size += len(data)
