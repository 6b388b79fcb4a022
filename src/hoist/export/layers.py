"""Bringing a layer blob into the store and checking it against its diff_id."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, BinaryIO

from hoist.errors import ArchiveError
from hoist.image import mediatypes as mt
from hoist.image.descriptor import Descriptor
from hoist.layer.codec import detect as detect_codec
from hoist.layer.codec import open_decompressed, peek_head
from hoist.models.digest import Digest
from hoist.store.blobs import CHUNK

if TYPE_CHECKING:
    from hoist.store.store import Store


def verify_diff_id(store: Store, digest: Digest, size: int, diff_id: Digest, what: str) -> str:
    """Check that blob ``digest`` uncompresses to ``diff_id``; return its codec.

    Remembers the result (uncompressed size, compressed form) so the next load
    of the same blob skips the work.
    Raises:
        ArchiveError: the content does not match ``diff_id`` or uses an
            unsupported codec.
    """
    if digest == diff_id:
        store.tables.diff_size_put(diff_id, size)
        return "plain"
    for codec in ("gzip", "zstd"):
        if store.tables.compressed_get(diff_id, codec) == (digest, size):
            return codec
    with store.blobs.open(digest) as raw:
        head, stream = peek_head(raw)
        codec = detect_codec(head)
        if codec not in ("gzip", "zstd"):
            raise ArchiveError(f"{what}: layer {digest} does not match diff_id {diff_id}")
        plain_size, got = _hash_plain(open_decompressed(stream, codec), what)
    if got != diff_id.hex:
        raise ArchiveError(
            f"{what}: layer {digest} uncompresses to sha256:{got}, not diff_id {diff_id}"
        )
    store.tables.diff_size_put(diff_id, plain_size)
    store.tables.compressed_put(diff_id, codec, digest, size)
    return codec


def _hash_plain(stream: BinaryIO, what: str) -> tuple[int, str]:
    hasher = hashlib.sha256()
    total = 0
    try:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
            total += len(chunk)
    except ArchiveError as exc:
        raise ArchiveError(f"{what}: {exc.message}") from exc
    return total, hasher.hexdigest()


def import_layer(
    store: Store,
    stream: BinaryIO,
    diff_id: Digest,
    what: str,
    *,
    expected: Digest | None = None,
    size: int | None = None,
) -> Descriptor:
    """Put a layer blob (as it comes: plain, gzip or zstd) and verify its diff_id.

    Raises:
        DigestMismatch: the blob does not match ``expected``/``size``.
        ArchiveError: it does not match ``diff_id``.
    """
    digest, count = store.blobs.put(stream, expected=expected, size=size)
    codec = verify_diff_id(store, digest, count, diff_id, what)
    return Descriptor(mt.oci_layer_type(codec), digest, count)
