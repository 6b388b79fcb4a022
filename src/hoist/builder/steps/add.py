"""ADD: COPY plus local archive extraction and http(s) downloads.

* A local source that is a **regular file recognised as a tar archive by its
  content** (plain, gzip, bzip2 or xz; never by its name) is extracted into
  the destination, which is then always a directory, merging with what is
  there, through :func:`hoist.layer.apply.extract_archive_into` (safe
  extraction; uid/gid kept from the archive, or ``--chown``'s for every
  entry, as BuildKit does since v0.23 — moby/buildkit#5987). Anything else (a directory, a
  text file named ``x.tar.gz``, gzip of non-tar data, an empty file) is
  copied as COPY would. A recognised but corrupt archive is an error naming
  the source; nothing of it is left in the destination (the extractor's
  contract).
* ``--unpack=false`` copies local archives verbatim; ``--unpack=true`` also
  extracts a downloaded archive (BuildKit's reference: remote archives are
  not extracted by default).
* A URL source is downloaded (:mod:`hoist.builder.steps.fetch`) into a
  private temporary file and written as ``dest`` or ``dest/<url name>`` with
  mode 0600 (``--chmod`` applies), owner 0:0 (or ``--chown``) and the
  ``Last-Modified`` time when given.
* git sources (``git@…``, ``git://…``, ``….git``) are not supported yet: a
  clear error, never a plain download of something else.
"""

from __future__ import annotations

import bz2
import lzma
import os
import stat
import tempfile
import zlib
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import msgspec

from hoist.builder.steps.copy import copy_into
from hoist.builder.steps.copydest import CopyOptions, destination_path
from hoist.builder.steps.fetch import FetchLimits, FetchResult, fetch_url, is_url
from hoist.builder.steps.inline import InlineFile, write_file
from hoist.context.select import Selected, open_file, open_selected
from hoist.errors import BuildError, UserInputError
from hoist.fs.resolve import DirSpec, Root

__all__ = ["AddOptions", "add_into", "add_url", "check_add_source", "is_git_source"]

URL_MODE = 0o600


class AddOptions(msgspec.Struct, frozen=True):
    """ADD-only flags: ``--unpack`` (None: the default), ``--checksum``, download limits."""

    unpack: bool | None = None
    checksum: str | None = None
    limits: FetchLimits = msgspec.field(default_factory=FetchLimits)


def is_git_source(source: str) -> bool:
    """Whether an ADD source names a git repository (which hoist cannot fetch yet)."""
    if source.startswith(("git@", "git://")):
        return True
    return is_url(source) and urlsplit(source).path.rstrip("/").endswith(".git")


def check_add_source(source: str, where: str = "") -> None:
    """Reject the ADD sources hoist does not support, before anything runs.

    Raises:
        UserInputError: a git source, or a URL scheme other than http(s).
    """
    at = f" ({where})" if where else ""
    if is_git_source(source):
        raise UserInputError(
            f"ADD {source}{at}: git sources are not supported yet",
            hint="clone the repository in a RUN step, or add a tarball URL instead",
        )
    if is_url(source) and urlsplit(source).scheme.lower() not in ("http", "https"):
        raise UserInputError(f"ADD {source}{at}: only http and https URLs are supported")


def add_into(
    sources: Sequence[Selected],
    dest: str,
    workdir: str,
    dest_root: Root,
    *,
    options: CopyOptions | None = None,
    add: AddOptions | None = None,
    where: str = "",
    force_dir: bool = False,
) -> None:
    """ADD local sources: extract archives, copy everything else like COPY.

    ``force_dir`` as for :func:`~hoist.builder.steps.copy.copy_into` (the
    instruction has other sources, e.g. URLs, so ``dest`` is a directory).

    Raises:
        ArchiveError: a recognised archive is corrupt or hostile.
        BuildError, ContextError: as :func:`~hoist.builder.steps.copy.copy_into`.
    """
    options = options or CopyOptions()
    add = add or AddOptions()
    plain = [s for s in sources if add.unpack is False or not _is_archive_source(s)]
    archives = [s for s in sources if s not in plain]
    if plain:
        force = force_dir or len(sources) > 1
        copy_into(plain, dest, workdir, dest_root, options=options, where=where, force_dir=force)
    for sel in archives:
        _extract_source(sel, dest, workdir, dest_root, options)


def add_url(
    url: str,
    dest: str,
    workdir: str,
    dest_root: Root,
    *,
    options: CopyOptions | None = None,
    add: AddOptions | None = None,
    where: str = "",
    force_dir: bool = False,
) -> FetchResult:
    """Download ``url`` and write it into the rootfs; return the download's facts.

    Raises:
        FetchError: the download failed or broke a rule (scheme, redirect, size,
            time, checksum).
        ArchiveError: ``--unpack=true`` and the download is a corrupt archive.
        BuildError: writing the destination failed.
    """
    check_add_source(url, where)
    add = add or AddOptions()
    with tempfile.TemporaryFile(prefix="hoist-add-") as tmp:
        result = fetch_url(url, tmp, add.limits, checksum=add.checksum)
        tmp.seek(0)
        if add.unpack and _looks_like_archive(tmp):  # type: ignore[arg-type]
            tmp.seek(0)
            opts = options or CopyOptions()
            _extract_stream(tmp, dest, workdir, dest_root, opts, url)  # type: ignore[arg-type]
            return result
        tmp.seek(0)
        file = InlineFile(result.name, URL_MODE, result.mtime_ns)
        write_file(file, tmp.fileno(), dest, workdir, dest_root, options=options, as_dir=force_dir)
    return result


# --- archives ----------------------------------------------------------------------------------


def _is_archive_source(sel: Selected) -> bool:
    if not stat.S_ISREG(sel.mode):
        return False
    with _open_source(sel) as stream:
        return _looks_like_archive(stream)


def _looks_like_archive(stream: BinaryIO) -> bool:
    """Docker's test (``IsArchivePath``): the decompressed content starts with a tar header.

    gzip/bzip2/xz of something that is not a tar, or compressed data too short
    to hold one header, is not an archive (copied verbatim). A valid first
    header with corruption or truncation later is an archive, and extracting
    it fails with an error naming the source.
    """
    from hoist.layer.apply import is_archive  # deferred: keep COPY-only builds light

    start = stream.tell()
    try:
        head = _decompressed_head(stream, 512)
    finally:
        stream.seek(start)
    return len(head) == 512 and is_archive(head)


def _decompressed_head(stream: BinaryIO, size: int) -> bytes:
    """The first ``size`` decompressed bytes, tolerating truncation after them.

    Incremental decoders (not the streaming readers) so that a stream cut
    short later still yields its first bytes, as Go's readers do.
    """
    import zstandard  # with the codecs: only an ADD of a local archive needs them

    from hoist.layer import codec

    first = stream.read(codec.MAGIC_LEN)
    kind = codec.detect(first)
    if kind == codec.PLAIN:
        return (first + stream.read(size))[:size]
    decoder = _DECODERS[kind]()
    out = b""
    data = first
    try:
        while len(out) < size and data:
            out += decoder.decompress(data)
            data = stream.read(1 << 16)
    except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error, zstandard.ZstdError):
        pass  # corrupt: whatever decoded so far decides
    return out[:size]


def _zstd_decoder() -> Any:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


_DECODERS: dict[str, Callable[[], Any]] = {
    "gzip": lambda: zlib.decompressobj(wbits=31),
    "bzip2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
    "zstd": _zstd_decoder,
}


def _open_source(sel: Selected) -> BinaryIO:
    dirfd, entry = open_selected(sel)
    try:
        fd = open_file(sel.tree, dirfd, entry)
    finally:
        os.close(dirfd)
    return os.fdopen(fd, "rb")


def _extract_source(
    sel: Selected, dest: str, workdir: str, dest_root: Root, options: CopyOptions
) -> None:
    with _open_source(sel) as stream:
        _extract_stream(stream, dest, workdir, dest_root, options, sel.pattern)


def _extract_stream(
    stream: BinaryIO, dest: str, workdir: str, dest_root: Root, options: CopyOptions, name: str
) -> None:
    from hoist.layer.apply import extract_archive_into

    path, _ = destination_path(dest, workdir)
    uid, gid = options.chown or (0, 0)
    try:
        os.close(dest_root.mkdir_all(path, DirSpec(0o755, uid, gid)))
    except OSError as exc:
        raise BuildError(f"extracting {name!r} to {path!r}: {exc.strerror or exc}") from exc
    extract_archive_into(stream, dest_root, path.lstrip("/") or ".", name=name, owner=options.chown)
