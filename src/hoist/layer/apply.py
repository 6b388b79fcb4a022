"""Safe extraction of layers and archives (SECURITY.md rules 1-4, cases B1-B9, D1, D4).

``tarfile`` only parses, on a stream; hoist creates every entry itself through
:class:`~hoist.fs.resolve.Root`, so no name, symlink or hardlink can reach
outside the destination. Names that escape after cleaning are refused, a leading
``/`` is dropped, symlink targets are stored verbatim, hardlinks must point at
entries that already exist inside the root, metadata is set through descriptors,
and device nodes are made only by root. Limits on entries, bytes and time bound
hostile input.

Contract on failure: :func:`apply_layer` with ``atomic=True`` extracts into a
scratch directory beside ``dest`` and renames it into place on success, so an
error leaves nothing behind. :func:`extract_archive_into` checks the whole
archive first (a dry run that reads every byte) and extracts only a valid one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tarfile
import time
from collections.abc import Callable
from typing import BinaryIO, Final

import msgspec

from hoist.errors import ArchiveError, HoistError, LayerError
from hoist.fs.resolve import Root
from hoist.layer import codec
from hoist.layer.entries import EntryWriter, clean_name, parse_whiteout

_CHUNK: Final = 1 << 20
_TAR_BUFSIZE: Final = 64 << 10
#: PAX / GNU long-name header data allowed before one entry (all of a chain together).
MAX_META_BYTES: Final = 1 << 20
_META_TYPES: Final = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                      tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
OVERLAY: Final = "overlay"
REMOVE: Final = "remove"
NONE: Final = "none"


class Limits(msgspec.Struct, frozen=True):
    """Bounds on hostile input; each error names the limit that was hit."""

    max_bytes: int = 256 << 30
    max_entries: int = 2_000_000
    max_seconds: float | None = None


class ApplyStats(msgspec.Struct):
    """What an extraction did."""

    entries: int = 0
    bytes: int = 0
    whiteouts: int = 0
    skipped: list[str] = msgspec.field(default_factory=list)


def apply_layer(stream: BinaryIO, dest: str, *, whiteout_format: str = OVERLAY,
                limits: Limits | None = None, atomic: bool = True) -> ApplyStats:
    """Extract a layer (gzip, zstd, bzip2, xz or plain, detected by content) into ``dest``.

    ``whiteout_format``: ``"overlay"`` turns ``.wh.NAME`` into a 0/0 char device and
    ``.wh..wh..opq`` into ``trusted.overlay.opaque=y`` (a layer dir for overlayfs);
    ``"remove"`` deletes what they name from ``dest`` (a flattened rootfs).
    With ``atomic`` (only for a ``dest`` that does not exist yet) the layer is
    extracted beside ``dest`` and renamed into place on success.

    Raises:
        ArchiveError: a hostile, corrupt or truncated layer, or a limit was hit.
        LayerError: the destination cannot be written.
    """
    if whiteout_format not in (OVERLAY, REMOVE):
        raise LayerError(f"applying a layer: unknown whiteout format {whiteout_format!r}")
    limits = limits or Limits()
    try:
        if not atomic:
            return _extract(stream, dest, whiteout_format, limits)
        return _extract_atomic(stream, dest, whiteout_format, limits)
    except OSError as exc:
        raise LayerError(f"applying a layer to {dest}: {exc.strerror or exc}") from exc


def _extract_atomic(stream: BinaryIO, dest: str, whiteout_format: str,
                    limits: Limits) -> ApplyStats:
    scratch = f"{dest}.partial-{secrets.token_hex(4)}"
    os.mkdir(scratch, 0o755)
    try:
        stats = _extract(stream, scratch, whiteout_format, limits)
        os.rename(scratch, dest)  # fails if dest exists and is not empty: never merged
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return stats


def extract_archive_into(archive: BinaryIO, root: Root, dest_rel: str, *,
                         name: str = "archive", limits: Limits | None = None,
                         owner: tuple[int, int] | None = None) -> ApplyStats:
    """Unpack a local archive into ``dest_rel`` inside ``root`` like ``ADD x.tar.gz /d/``.

    Docker semantics: merge into an existing destination (created with its
    parents when missing), owners kept from the archive unless ``owner`` (uid,
    gid) is given (``ADD --chown``, BuildKit >= 0.23), no whiteout handling.
    ``archive`` must be seekable: it is read twice, first to validate it whole
    so a corrupt archive never leaves a half-populated destination.

    Raises:
        ArchiveError: corrupt, truncated or hostile, with ``name`` in the message.
        LayerError: the destination cannot be written.
    """
    limits = limits or Limits()
    start = archive.tell()
    try:
        _validate(archive, limits)
        archive.seek(start)
        with root.subroot(dest_rel) as sub:
            return _extract_root(archive, sub, NONE, limits, owner)
    except ArchiveError as exc:
        raise ArchiveError(f"extracting {name}: {exc.message}", hint=exc.hint) from exc
    except OSError as exc:
        raise LayerError(f"extracting {name} to {dest_rel}: {exc.strerror or exc}") from exc


def is_archive(head: bytes) -> bool:
    """Whether ``head`` (>= 512 bytes when available) starts an archive ADD unpacks.

    Compressed data counts when its codec is known (the content is checked when
    extracting); plain data counts only with a valid tar header checksum.
    """
    if codec.detect(head) != codec.PLAIN:
        return True
    if len(head) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


# -- the extraction loop --------------------------------------------------------------


def _extract(stream: BinaryIO, dest: str, whiteout_format: str, limits: Limits) -> ApplyStats:
    with Root(dest) as root:
        return _extract_root(stream, root, whiteout_format, limits)


def _validate(stream: BinaryIO, limits: Limits) -> None:
    """Read every header and byte of an archive, writing nothing."""

    def read_all(tf: tarfile.TarFile, member: tarfile.TarInfo, guard: _Guard) -> None:
        clean_name(member.name)
        if member.isreg() and member.size:
            reader = tf.extractfile(member)
            assert reader is not None
            while reader.read(_CHUNK):
                guard.tick()

    _for_each(stream, limits, read_all)


def _extract_root(stream: BinaryIO, root: Root, whiteout_format: str,
                  limits: Limits, owner: tuple[int, int] | None = None) -> ApplyStats:
    writer = EntryWriter(root, whiteout_format == REMOVE)
    stats = ApplyStats()

    def one(tf: tarfile.TarFile, member: tarfile.TarInfo, guard: _Guard) -> None:
        writer.tick = guard.tick
        if owner is not None:
            member.uid, member.gid = owner
        _apply_member(tf, member, writer, whiteout_format, stats)

    _for_each(stream, limits, one)
    writer.finish()
    return stats


def _apply_member(tf: tarfile.TarFile, member: tarfile.TarInfo, writer: EntryWriter,
                  whiteout_format: str, stats: ApplyStats) -> None:
    path = clean_name(member.name)
    # ADD (format "none") writes .wh.* names literally, as docker's Untar does, and
    # leaves the destination directory's own metadata alone (docker skips ".").
    whiteout = None if whiteout_format == NONE else parse_whiteout(path)
    if path == "" and whiteout_format == NONE:
        return
    try:
        if whiteout is not None and whiteout.meta:
            return  # aufs bookkeeping (.wh..wh.plnk …): skipped like docker
        if whiteout is not None:
            stats.whiteouts += 1
            writer.whiteout(whiteout, overlay=whiteout_format == OVERLAY)
        elif not writer.entry(path, member, tf):
            stats.skipped.append(path)
    except OSError as exc:
        raise LayerError(f"extracting {path or '/'}: {exc.strerror}") from exc
    stats.entries += 1
    stats.bytes += member.size


def _for_each(stream: BinaryIO, limits: Limits,
              handle: Callable[[tarfile.TarFile, tarfile.TarInfo, _Guard], None]) -> None:
    """Parse a (compressed) tar stream and call ``handle`` per member, within ``limits``."""
    deadline = None if limits.max_seconds is None else time.monotonic() + limits.max_seconds
    guard = _Guard(limits, deadline)
    try:
        reader = codec.open_decompressed(stream)
        # tarfile's 10 KiB default record buffer is slow for big files, and a 1 MiB one
        # is slow for small ones (every header read copies the rest of the buffer).
        with tarfile.open(fileobj=reader, mode="r|", errorlevel=2, bufsize=_TAR_BUFSIZE,
                          tarinfo=_BoundedInfo) as tf:
            last_offset = -1
            for member in tf:
                if member.offset_data <= last_offset:  # CVE-2025-8194: offsets only advance
                    raise ArchiveError(f"reading entry {member.name!r}: header offset went back")
                last_offset = member.offset_data
                guard.check(member)
                handle(tf, member, guard)
        _drain(reader, guard)
    except HoistError:
        raise
    except (tarfile.TarError, EOFError, ValueError, OverflowError, RecursionError) as exc:
        cause = "unexpected end of data" if isinstance(exc, EOFError) else str(exc)
        raise ArchiveError(f"reading the archive: {cause or type(exc).__name__}") from exc


def _drain(reader: BinaryIO, guard: _Guard) -> None:
    """Read what follows the end of the tar, so a truncated or corrupt codec stream errors."""
    while chunk := reader.read(_CHUNK):
        guard.bytes += len(chunk)
        if guard.bytes > guard.limits.max_bytes:
            raise ArchiveError(
                f"reading the archive: more than max_bytes={guard.limits.max_bytes} "
                "uncompressed bytes (after the end of the tar)"
            )
        guard.tick()


class _BoundedInfo(tarfile.TarInfo):
    """A TarInfo that refuses oversized PAX and GNU long-name headers before reading them.

    ``tarfile`` reads such a header's whole data into memory (and follows a chain
    of them recursively), so one header declaring 1 GiB would cost 1 GiB of RAM.
    """

    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        if self.type in _META_TYPES:
            used = getattr(tarfile, "_hoist_meta_bytes", 0) + self.size
            if self.size < 0 or used > MAX_META_BYTES:
                raise ArchiveError(
                    f"reading the archive: extended headers larger than {MAX_META_BYTES} bytes"
                )
            tarfile._hoist_meta_bytes = used  # type: ignore[attr-defined]
        else:
            tarfile._hoist_meta_bytes = 0  # type: ignore[attr-defined]
        return super()._proc_member(tarfile)  # type: ignore[misc]

    # Sparse maps are read by tarfile in unbounded loops (a map that never ends grows a
    # buffer until the stream does): refuse sparse entries before any map is read.
    def _proc_sparse(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        raise ArchiveError(f"reading entry {self.name!r}: sparse files are not supported")

    def _proc_gnusparse_10(self, next: tarfile.TarInfo, pax_headers: dict[str, str],
                           tarfile: tarfile.TarFile) -> None:
        raise ArchiveError(f"reading entry {next.name!r}: sparse files are not supported")


class _Guard:
    def __init__(self, limits: Limits, deadline: float | None) -> None:
        self.limits, self.deadline = limits, deadline
        self.entries = 0
        self.bytes = 0

    def check(self, member: tarfile.TarInfo) -> None:
        self.entries += 1
        self.bytes += max(member.size, 0) + 512
        if self.entries > self.limits.max_entries:
            raise ArchiveError(
                f"reading the archive: more than max_entries={self.limits.max_entries} entries"
            )
        if member.size < 0:  # CVE-2025-8194: a negative size moves the offset backwards
            raise ArchiveError(f"reading entry {member.name!r}: negative size {member.size}")
        if self.bytes > self.limits.max_bytes:
            raise ArchiveError(
                f"reading the archive: more than max_bytes={self.limits.max_bytes} "
                f"uncompressed bytes (at entry {member.name!r})"
            )
        if member.sparse is not None or member.type == tarfile.GNUTYPE_SPARSE:
            raise ArchiveError(f"reading entry {member.name!r}: sparse files are not supported")
        self.tick()

    def tick(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ArchiveError(
                f"reading the archive: took longer than max_seconds={self.limits.max_seconds}"
            )
