"""Compression codecs for layer blobs, detected by content (magic bytes).

Every reader here is streaming: nothing holds a whole blob in memory. gzip goes
through ``isal`` (several times faster than zlib); zstd through ``zstandard``;
bzip2 and xz through the standard library (accepted on read only, for ``ADD`` of
local archives). Decompression failures surface as :class:`ArchiveError` at the
``read`` that hit them, never as a foreign exception.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from typing import BinaryIO, Final

import zstandard
from isal import igzip, isal_zlib

from hoist.errors import ArchiveError, LayerError

GZIP: Final = "gzip"
ZSTD: Final = "zstd"
BZIP2: Final = "bzip2"
XZ: Final = "xz"
PLAIN: Final = "plain"

#: Bytes of head :func:`detect` needs to recognise every codec.
MAGIC_LEN: Final = 6
#: Compression codecs hoist can write (``compressor``).
WRITABLE: Final = (GZIP, ZSTD)

_MAGICS: Final = (
    (b"\x1f\x8b", GZIP),
    (b"\x28\xb5\x2f\xfd", ZSTD),
    (b"BZh", BZIP2),
    (b"\xfd7zXZ\x00", XZ),
)
_BUFSIZE: Final = 1 << 20
# A fast gzip level: isal levels are 0..3; 1 is faster than zlib -1 and close in size.
_GZIP_LEVEL: Final = 1
_ZSTD_LEVEL: Final = 3
_DECODE_ERRORS: Final = (
    EOFError,
    zlib.error,
    isal_zlib.error,
    zstandard.ZstdError,
    lzma.LZMAError,
    igzip.BadGzipFile,
    ValueError,
)


def detect(head: bytes) -> str:
    """Return the codec of a blob from its first bytes (at least MAGIC_LEN when available).

    Returns one of ``"gzip"``, ``"zstd"``, ``"bzip2"``, ``"xz"``, ``"plain"``.
    """
    for magic, codec in _MAGICS:
        if head.startswith(magic):
            return codec
    return PLAIN


def peek_head(stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """Read up to MAGIC_LEN bytes and return them with a stream that still yields them."""
    if _seekable(stream):  # seek back rather than copy every later byte through a wrapper
        start = stream.tell()
        head = _read_exactly_upto(stream, MAGIC_LEN)
        stream.seek(start)
        return head, stream
    head = _read_exactly_upto(stream, MAGIC_LEN)
    return head, _rejoin(head, stream)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def open_decompressed(stream: BinaryIO, codec: str | None = None) -> BinaryIO:
    """Return a streaming reader of the uncompressed bytes of ``stream``.

    The codec is detected from the content unless given. The caller keeps
    ownership of ``stream``; closing the returned reader does not close it.

    Raises:
        ArchiveError: (on read) the compressed data is corrupt or truncated.
        LayerError: ``codec`` is not a known codec name.
    """
    if codec is None:
        head, stream = peek_head(stream)
        codec = detect(head)
    if codec == PLAIN:
        return stream
    return _DecodeErrors(_decoder(codec, stream), codec)  # type: ignore[return-value]


def compressor(codec: str, out: BinaryIO) -> BinaryIO:
    """Return a writer that compresses into ``out``; ``close()`` flushes it, leaving ``out`` open.

    Output is deterministic for the same input (gzip header mtime 0, no name).

    Raises:
        LayerError: ``codec`` is not one of :data:`WRITABLE`.
    """
    if codec == GZIP:
        return igzip.IGzipFile(  # type: ignore[return-value]
            filename="", mode="wb", compresslevel=_GZIP_LEVEL, fileobj=out, mtime=0
        )
    if codec == ZSTD:
        cctx = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
        return cctx.stream_writer(out, closefd=False)  # type: ignore[return-value]
    raise _unknown(codec)


def media_type_suffix(codec: str) -> str:
    """Return the OCI layer media-type suffix for a codec (``""`` for plain)."""
    return {GZIP: "+gzip", ZSTD: "+zstd"}.get(codec, "")


def _decoder(codec: str, stream: BinaryIO) -> BinaryIO:
    if codec == GZIP:
        return igzip.IGzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if codec == ZSTD:
        # zstandard reports a truncated last frame as a clean EOF, so the frames are
        # checked for completeness as the compressed bytes pass through.
        dctx = zstandard.ZstdDecompressor()
        checked = _ZstdFrameCheck(stream)
        reader = dctx.stream_reader(
            checked, read_size=_BUFSIZE, read_across_frames=True, closefd=False
        )
        return io.BufferedReader(reader, _BUFSIZE)  # type: ignore[arg-type]
    if codec == BZIP2:
        return bz2.BZ2File(stream, "rb")  # type: ignore[return-value]
    if codec == XZ:
        return lzma.LZMAFile(stream, "rb")  # type: ignore[return-value]
    raise _unknown(codec)


def _unknown(codec: str) -> LayerError:
    return LayerError(f"choosing a compression codec: unknown codec {codec!r}")


def _read_exactly_upto(stream: BinaryIO, n: int) -> bytes:
    chunks = b""
    while len(chunks) < n:
        got = stream.read(n - len(chunks))
        if not got:
            break
        chunks += got
    return chunks


def _rejoin(head: bytes, stream: BinaryIO) -> BinaryIO:
    if not head:
        return stream
    return io.BufferedReader(_Prefixed(head, stream), _BUFSIZE)  # type: ignore[return-value]


class _Prefixed(io.RawIOBase):
    """A raw reader that yields ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


class _DecodeErrors(io.RawIOBase):
    """Translate decoder exceptions into :class:`ArchiveError` at the read that hit them."""

    def __init__(self, inner: BinaryIO, codec: str) -> None:
        self._inner = inner
        self._codec = codec

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        try:
            return self._inner.read(size)
        except _DECODE_ERRORS as exc:
            raise self._error(exc) from exc
        except OSError as exc:  # bz2 reports corrupt data as OSError
            raise self._error(exc) from exc

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def _error(self, exc: BaseException) -> ArchiveError:
        cause = "unexpected end of data" if isinstance(exc, EOFError) else str(exc)
        return ArchiveError(f"decompressing {self._codec} data: {cause}")


class _ZstdFrameCheck:
    """A source wrapper that walks zstd frame and block headers and rejects truncation.

    Only headers are parsed (a few bytes per block of up to 128 KiB); block contents
    are skipped, so the cost is negligible next to decompression.
    """

    _MAGIC = 0xFD2FB528

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hdr = bytearray()
        self._want = 4
        self._state = "magic"
        self._skip = 0
        self._checksum = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._feed(memoryview(data))
        elif self._state != "magic" or self._hdr or self._skip:
            raise ArchiveError("decompressing zstd data: unexpected end of data")
        return data

    def _feed(self, data: memoryview) -> None:
        pos = 0
        while pos < len(data):
            if self._skip:
                n = min(self._skip, len(data) - pos)
                self._skip -= n
                pos += n
                continue
            n = min(self._want - len(self._hdr), len(data) - pos)
            self._hdr += data[pos : pos + n]
            pos += n
            if len(self._hdr) == self._want:
                header, self._hdr = bytes(self._hdr), bytearray()
                self._on_header(header)

    def _on_header(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        if self._state == "magic":
            self._on_magic(value)
        elif self._state == "skippable":
            self._skip, self._state, self._want = value, "magic", 4
        elif self._state == "descriptor":
            self._on_descriptor(value)
        elif self._state == "frame-rest":
            self._state, self._want = "block", 3
        else:
            self._on_block(value)

    def _on_magic(self, magic: int) -> None:
        if magic == self._MAGIC:
            self._state, self._want = "descriptor", 1
        elif magic & 0xFFFFFFF0 == 0x184D2A50:
            self._state, self._want = "skippable", 4
        else:
            raise ArchiveError("decompressing zstd data: bad frame magic")

    def _on_descriptor(self, fhd: int) -> None:
        single_segment = bool(fhd & 0x20)
        self._checksum = bool(fhd & 0x04)
        fcs = (1 if single_segment else 0, 2, 4, 8)[fhd >> 6]
        rest = (0 if single_segment else 1) + (0, 1, 2, 4)[fhd & 0x03] + fcs
        if rest:
            self._state, self._want = "frame-rest", rest
        else:
            self._state, self._want = "block", 3

    def _on_block(self, header: int) -> None:
        last, kind, size = header & 1, (header >> 1) & 3, header >> 3
        if kind == 3:
            raise ArchiveError("decompressing zstd data: reserved block type")
        self._skip = 1 if kind == 1 else size
        if last:
            self._skip += 4 if self._checksum else 0
            self._state, self._want = "magic", 4
