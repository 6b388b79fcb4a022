"""What ``hoist load`` reads from: a tar archive (maybe compressed) or an OCI layout dir.

Both expose the same small interface over archive-relative paths; every path is
cleaned first (no absolute names, no ``..``), symlinks inside a tar are followed
only within the archive, and a directory source never follows a symlink.
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from hoist.errors import ArchiveError
from hoist.export.tarsafe import TAR_ERRORS, clean_name, iter_members, translate
from hoist.layer.codec import MAGIC_LEN, detect, open_decompressed

MAX_SMALL = 8 * 1024 * 1024
_MAX_LINK_DEPTH = 16
_CHUNK = 1 << 20


class Source(Protocol):
    name: str

    def exists(self, path: str) -> bool: ...

    def open(self, path: str) -> tuple[BinaryIO, int]:
        """A reader of the file at ``path`` and its size. Raises: ArchiveError."""
        ...

    def read_small(self, path: str, limit: int = MAX_SMALL) -> bytes:
        """Raises: ArchiveError (missing, too large, truncated)."""
        ...


def _read_bounded(source: Source, path: str, limit: int) -> bytes:
    stream, size = source.open(path)
    with stream:
        if size > limit:
            raise ArchiveError(f"reading {source.name}: {path} is larger than {limit} bytes")
        try:
            data = stream.read(size + 1)
        except TAR_ERRORS as exc:
            raise translate(exc, source.name) from exc
    if len(data) != size:
        raise ArchiveError(f"reading {source.name}: {path}: unexpected end of data")
    return data


class TarSource:
    """A tar file read with random access; entries indexed by cleaned name."""

    def __init__(self, fileobj: BinaryIO, name: str) -> None:
        self.name = name
        try:
            self._tar = tarfile.open(fileobj=fileobj, mode="r:")  # noqa: SIM115
        except TAR_ERRORS as exc:
            raise translate(exc, name) from exc
        members = list(iter_members(self._tar, name))
        _check_complete(fileobj, members, self._tar.offset, name)
        self._members = {clean_name(m.name, name): m for m in members}

    def exists(self, path: str) -> bool:
        return self._resolve(path) is not None

    def _resolve(self, path: str) -> tarfile.TarInfo | None:
        current = clean_name(path, self.name)
        for _ in range(_MAX_LINK_DEPTH):
            member = self._members.get(current)
            if member is None or member.isfile():
                return member
            if member.issym():
                base = os.path.dirname(current)
                current = clean_name(
                    os.path.normpath(os.path.join(base, member.linkname)), self.name
                )
            elif member.islnk():
                current = clean_name(member.linkname, self.name)
            else:
                return None
        raise ArchiveError(f"reading {self.name}: too many levels of links at {path!r}")

    def open(self, path: str) -> tuple[BinaryIO, int]:
        member = self._resolve(path)
        if member is None:
            raise ArchiveError(f"reading {self.name}: {path} is missing from the archive")
        try:
            stream = self._tar.extractfile(member)
        except TAR_ERRORS as exc:
            raise translate(exc, self.name) from exc
        if stream is None:
            raise ArchiveError(f"reading {self.name}: {path} is not a regular file")
        return _Translating(stream, self.name), member.size  # type: ignore[return-value]

    def read_small(self, path: str, limit: int = MAX_SMALL) -> bytes:
        return _read_bounded(self, path, limit)


def _check_complete(
    fileobj: BinaryIO, members: list[tarfile.TarInfo], end: int, name: str
) -> None:
    """Catch truncation that ``tarfile`` reads as a normal end of archive.

    Raises:
        ArchiveError: an entry's data runs past the end of the file, or a
            partial header or nothing (no end-of-archive blocks) follows the last entry.
    """
    size = fileobj.seek(0, os.SEEK_END)
    truncated = any(m.offset_data + m.size > size for m in members)
    if not truncated:  # a complete tar ends with zero blocks
        fileobj.seek(end)
        trailer = fileobj.read(512)
        truncated = len(trailer) < 512 or any(trailer)
    if truncated:
        raise ArchiveError(f"reading {name}: unexpected end of data (truncated archive)")


class DirSource:
    """An OCI image layout directory; symlinks are never followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = str(root)

    def _open_fd(self, path: str) -> int | None:
        parts = clean_name(path, self.name).split("/")
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts[:-1]:
                nxt = os.open(
                    part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
                )
                os.close(fd)
                fd = nxt
            return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArchiveError(f"reading {self.name}: {path}: {exc.strerror}") from exc
        finally:
            os.close(fd)

    def exists(self, path: str) -> bool:
        fd = self._open_fd(path)
        if fd is None:
            return False
        os.close(fd)
        return True

    def open(self, path: str) -> tuple[BinaryIO, int]:
        fd = self._open_fd(path)
        if fd is None:
            raise ArchiveError(f"reading {self.name}: {path} is missing")
        stream = os.fdopen(fd, "rb")
        return stream, os.fstat(fd).st_size

    def read_small(self, path: str, limit: int = MAX_SMALL) -> bytes:
        return _read_bounded(self, path, limit)


class _Translating:
    """A tar member reader whose foreign errors become ArchiveError."""

    def __init__(self, inner: BinaryIO, name: str) -> None:
        self._inner = inner
        self._name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._inner.read(size)
        except TAR_ERRORS as exc:
            raise translate(exc, self._name) from exc

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _Translating:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def open_source(path: Path, scratch: Path) -> Iterator[Source]:
    """Open ``path`` as a directory or (maybe compressed) tar archive.

    A compressed archive is decompressed into an unnamed temp file in
    ``scratch`` (inside the store) first, since reading needs random access.
    Raises:
        ArchiveError: missing, unreadable or corrupt input.
    """
    if path.is_dir():
        yield DirSource(path)
        return
    try:
        raw = open(path, "rb")  # noqa: SIM115 -- closed below
    except OSError as exc:
        raise ArchiveError(f"reading {path}: {exc.strerror}") from exc
    with raw:
        codec = detect(raw.read(MAGIC_LEN))
        raw.seek(0)
        if codec == "plain":
            yield TarSource(raw, str(path))
            return
        with tempfile.TemporaryFile(dir=scratch) as plain:
            try:
                _copy(open_decompressed(raw, codec), plain)
            except ArchiveError as exc:
                raise ArchiveError(f"reading {path}: {exc.message}") from exc
            plain.seek(0)
            yield TarSource(plain, str(path))  # type: ignore[arg-type]


def _copy(src: BinaryIO, dst: BinaryIO) -> None:
    while chunk := src.read(_CHUNK):
        dst.write(chunk)
