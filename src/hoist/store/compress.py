"""A layer blob in the codec an export needs, made once and remembered.

Build layers are stored uncompressed (blob digest == diff_id). ``save`` and
``push`` ask for gzip or zstd: the compressed blob is made by streaming the
stored blob through the compressor into the blob store, while the plain bytes
are hashed again so a wrong diff_id aborts the write before it commits. The
result is memoised per (diff_id, codec) in ``compressed_blobs``.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, BinaryIO

from hoist.errors import DigestMismatch
from hoist.image import mediatypes as mt
from hoist.image.descriptor import Descriptor
from hoist.layer.codec import compressor, open_decompressed
from hoist.models.digest import Digest
from hoist.store.blobs import CHUNK

if TYPE_CHECKING:
    from hoist.store.store import Store


def layer_in_codec(store: Store, layer: Descriptor, diff_id: Digest, codec: str) -> Descriptor:
    """A descriptor of ``layer``'s content compressed with ``codec`` (plain/gzip/zstd).

    Raises:
        BlobNotFound: the source blob is missing.
        DigestMismatch: the source does not decompress to ``diff_id``.
    """
    current = mt.layer_codec(layer.media_type)
    if current == codec:
        return layer
    known = store.tables.compressed_get(diff_id, codec)
    if known is not None and store.blobs.has(known[0]):
        return Descriptor(mt.oci_layer_type(codec), known[0], known[1])
    with store.lease(), store.blobs.open(layer.digest) as raw:
        plain = _DiffIdCheck(open_decompressed(raw, current), diff_id)
        source = plain if codec == "plain" else _Compressing(plain, codec)
        digest, size = store.blobs.put(source, expected=diff_id if codec == "plain" else None)
        store.tables.compressed_put(diff_id, codec, digest, size)
    if codec == "plain":
        store.tables.diff_size_put(diff_id, size)
    return Descriptor(mt.oci_layer_type(codec), digest, size)


class _DiffIdCheck(io.RawIOBase):
    """Hashes the plain bytes; raises DigestMismatch at EOF when they are not ``diff_id``."""

    def __init__(self, inner: BinaryIO, diff_id: Digest) -> None:
        self._inner = inner
        self._diff_id = diff_id
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        data = self._inner.read(size if size > 0 else CHUNK)
        if data:
            self._hash.update(data)
        elif self._hash.hexdigest() != self._diff_id.hex:
            raise DigestMismatch(
                f"converting layer {self._diff_id}: uncompressed content hashes to "
                f"sha256:{self._hash.hexdigest()}"
            )
        return data


class _Sink:
    """Collects what a compressor writes, for :class:`_Compressing` to hand out."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass


class _Compressing(io.RawIOBase):
    """A reader of the compressed form of a plain stream (pull-based, bounded memory)."""

    def __init__(self, plain: BinaryIO, codec: str) -> None:
        self._plain = plain
        self._sink = _Sink()
        self._writer = compressor(codec, self._sink)  # type: ignore[arg-type]
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        size = size if size > 0 else CHUNK
        while len(self._sink.buffer) < size and not self._done:
            chunk = self._plain.read(CHUNK)
            if chunk:
                self._writer.write(chunk)
            else:
                self._writer.close()
                self._done = True
        out = bytes(self._sink.buffer[:size])
        del self._sink.buffer[:size]
        return out
