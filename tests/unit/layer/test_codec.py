from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os

import pytest
import zstandard

from hoist.errors import ArchiveError, LayerError
from hoist.layer import codec

DATA = b"layer bytes " * 50_000 + os.urandom(200_000)


def _compress(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    writer = codec.compressor(name, out)
    writer.write(data)
    writer.close()
    assert not out.closed
    return out.getvalue()


@pytest.mark.parametrize(
    ("blob", "expected"),
    [
        (gzip.compress(b"x"), "gzip"),
        (zstandard.ZstdCompressor().compress(b"x"), "zstd"),
        (bz2.compress(b"x"), "bzip2"),
        (lzma.compress(b"x"), "xz"),
        (b"ustar-ish plain bytes", "plain"),
        (b"", "plain"),
        (b"\x1f", "plain"),
    ],
)
def test_detect_by_magic(blob: bytes, expected: str) -> None:
    assert codec.detect(blob[: codec.MAGIC_LEN]) == expected


@pytest.mark.parametrize("name", codec.WRITABLE)
def test_round_trip_through_writers(name: str) -> None:
    blob = _compress(name, DATA)
    assert codec.detect(blob) == name
    assert codec.open_decompressed(io.BytesIO(blob)).read() == DATA


def test_gzip_output_is_deterministic() -> None:
    assert _compress("gzip", DATA) == _compress("gzip", DATA)


@pytest.mark.parametrize(
    "blob",
    [
        gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:]),
        bz2.compress(DATA),
        lzma.compress(DATA),
        zstandard.ZstdCompressor().compress(DATA[:1000])
        + zstandard.ZstdCompressor(write_checksum=True).compress(DATA[1000:]),
        DATA,
    ],
    ids=["gzip-multimember", "bzip2", "xz", "zstd-multiframe", "plain"],
)
def test_open_decompressed_detects_and_streams(blob: bytes) -> None:
    reader = codec.open_decompressed(io.BytesIO(blob))
    chunks = []
    while chunk := reader.read(65536):
        chunks.append(chunk)
    assert b"".join(chunks) == DATA


@pytest.mark.parametrize(
    "blob",
    [
        gzip.compress(DATA),
        zstandard.ZstdCompressor().compress(DATA),
        zstandard.ZstdCompressor(write_checksum=True, write_content_size=False).compress(DATA),
        bz2.compress(DATA),
        lzma.compress(DATA),
    ],
    ids=["gzip", "zstd", "zstd-checksum", "bzip2", "xz"],
)
@pytest.mark.parametrize("fraction", [0.5, 0.99])
def test_truncated_data_is_an_archive_error(blob: bytes, fraction: float) -> None:
    cut = blob[: int(len(blob) * fraction)]
    with pytest.raises(ArchiveError, match="unexpected end of data"):
        codec.open_decompressed(io.BytesIO(cut)).read()


def test_corrupt_gzip_is_an_archive_error() -> None:
    blob = bytearray(gzip.compress(DATA))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(ArchiveError):
        codec.open_decompressed(io.BytesIO(bytes(blob))).read()


def test_zstd_bomb_streams_in_bounded_chunks() -> None:
    blob = zstandard.ZstdCompressor().compress(b"\0" * (64 << 20))
    reader = codec.open_decompressed(io.BytesIO(blob))
    assert len(reader.read(1 << 20)) == 1 << 20


def test_unknown_codec_is_refused() -> None:
    with pytest.raises(LayerError, match="unknown codec"):
        codec.compressor("lz4", io.BytesIO())


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(buffer), 1000))
        memoryview(buffer)[: len(data)] = data
        return len(data)


@pytest.mark.parametrize("name", [*codec.WRITABLE, "plain"])
def test_unseekable_streams_keep_their_head(name: str) -> None:
    blob = DATA if name == "plain" else _compress(name, DATA)
    head, rest = codec.peek_head(_Unseekable(blob))  # type: ignore[arg-type]
    assert codec.detect(head) == name
    assert codec.open_decompressed(rest).read() == DATA
    assert codec.open_decompressed(_Unseekable(blob)).read() == DATA  # type: ignore[arg-type]
