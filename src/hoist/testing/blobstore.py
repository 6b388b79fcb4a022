"""An in-memory :class:`BlobStore` and the conformance check every blob store must pass.

``check_blob_store(factory)`` asserts the contract of :mod:`hoist.store.blobs`:
put/has/open/size round trip, idempotent put, rejected content (digest and
size) leaves nothing behind, verified reads raise at EOF on corrupt content,
atomic visibility (a blob is invisible while its write is in progress), and
concurrent writers of one blob (threads, and processes when the store lives on
disk) all succeed with one intact copy.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from hoist.errors import BlobNotFound, DigestMismatch
from hoist.models.digest import Digest
from hoist.store.blobs import BlobStore, DirBlobStore, check_content, drain, open_verified

Corrupt = Callable[[BlobStore, Digest], None]


class MemoryBlobStore:
    """Blobs in a dict; same contract as the directory store (within one process)."""

    def __init__(self) -> None:
        self._blobs: dict[Digest, bytes] = {}
        self._lock = threading.Lock()

    def put(
        self, stream: BinaryIO, *, expected: Digest | None = None, size: int | None = None
    ) -> tuple[Digest, int]:
        algorithm = expected.algorithm if expected else "sha256"
        hasher, chunks, count = hashlib.new(algorithm), [], 0
        while chunk := stream.read(1 << 20):
            count += len(chunk)
            if size is not None and count > size:
                raise DigestMismatch(f"writing blob: more than the expected {size} bytes")
            hasher.update(chunk)
            chunks.append(chunk)
        digest = Digest(algorithm, hasher.hexdigest())
        check_content(digest, count, expected, size, f"blob {expected or digest}")
        with self._lock:
            self._blobs[digest] = b"".join(chunks)
        return digest, count

    def put_bytes(self, data: bytes, *, expected: Digest | None = None) -> tuple[Digest, int]:
        return self.put(io.BytesIO(data), expected=expected, size=len(data))

    def open(self, digest: Digest) -> BinaryIO:
        with self._lock:
            data = self._blobs.get(digest)
        if data is None:
            raise BlobNotFound(f"reading blob {digest}: not in the store")
        return open_verified(io.BytesIO(data), digest, None, str(digest))

    def has(self, digest: Digest) -> bool:
        return digest in self._blobs

    def size(self, digest: Digest) -> int:
        if digest not in self._blobs:
            raise BlobNotFound(f"reading blob {digest}: not in the store")
        return len(self._blobs[digest])

    def delete(self, digest: Digest) -> None:
        with self._lock:
            self._blobs.pop(digest, None)

    def digests(self) -> Iterator[Digest]:
        yield from sorted(self._blobs)

    def corrupt(self, digest: Digest) -> None:
        """Flip the first byte (for the conformance check)."""
        data = self._blobs[digest]
        self._blobs[digest] = bytes([data[0] ^ 0xFF]) + data[1:]


def check_blob_store(
    factory: Callable[[], BlobStore], *, corrupt: Corrupt | None = None, processes: bool = False
) -> None:
    """Run every check on fresh stores from ``factory``; raise AssertionError on a violation.

    ``corrupt(store, digest)`` damages a stored blob in place (default: knows
    :class:`DirBlobStore` and :class:`MemoryBlobStore`). With ``processes`` the
    store must be shared across ``fork`` (it lives on disk).
    """
    corrupt = corrupt or default_corrupt
    for check in (_round_trip, _idempotent, _rejects_mismatch, _atomic_visibility,
                  _concurrent_threads):  # fmt: skip
        check(factory())
    _verified_read(factory(), corrupt)
    if processes:
        _concurrent_processes(factory())


def default_corrupt(store: BlobStore, digest: Digest) -> None:
    """Flip one byte of a stored blob of a store hoist ships."""
    if isinstance(store, MemoryBlobStore):
        store.corrupt(digest)
        return
    if not isinstance(store, DirBlobStore):
        raise TypeError(f"check_blob_store: pass corrupt= for {type(store).__name__}")
    path = store.path(digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _round_trip(store: BlobStore) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    digest, size = store.put(io.BytesIO(data))
    assert digest == Digest("sha256", hashlib.sha256(data).hexdigest()) and size == len(data)
    assert store.has(digest) and store.size(digest) == len(data)
    with store.open(digest) as reader:
        assert reader.read() == data
    assert digest in set(store.digests())
    store.delete(digest)
    assert not store.has(digest)
    _raises(BlobNotFound, lambda: store.open(digest))


def _idempotent(store: BlobStore) -> None:
    data = b"same content"
    first = store.put_bytes(data)
    second = store.put(io.BytesIO(data), expected=first[0], size=len(data))
    assert first == second and list(store.digests()).count(first[0]) == 1


def _rejects_mismatch(store: BlobStore) -> None:
    good = Digest("sha256", hashlib.sha256(b"good").hexdigest())
    _raises(DigestMismatch, lambda: store.put(io.BytesIO(b"evil"), expected=good))
    _raises(DigestMismatch, lambda: store.put(io.BytesIO(b"good"), expected=good, size=3))
    _raises(DigestMismatch, lambda: store.put(io.BytesIO(b"good!"), size=4))
    assert not store.has(good) and list(store.digests()) == []


def _verified_read(store: BlobStore, corrupt: Corrupt) -> None:
    digest, _ = store.put_bytes(b"x" * 100_000)
    corrupt(store, digest)
    with store.open(digest) as reader:
        _raises(DigestMismatch, lambda: drain(reader))


def _atomic_visibility(store: BlobStore) -> None:
    data = os.urandom(2 << 20)
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())
    halfway, release = threading.Event(), threading.Event()
    stream = _PausingStream(data, halfway, release)
    writer = threading.Thread(target=store.put, args=(stream,), kwargs={"expected": digest})
    writer.start()
    assert halfway.wait(10), "writer never started"
    try:
        assert not store.has(digest), "a blob was visible before its write completed"
        _raises(BlobNotFound, lambda: store.open(digest))
    finally:
        release.set()
        writer.join(10)
    assert store.has(digest)


def _concurrent_threads(store: BlobStore) -> None:
    data = os.urandom(4 << 20)
    results: list[tuple[Digest, int]] = []
    threads = [threading.Thread(target=lambda: results.append(store.put_bytes(data)))
               for _ in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    with store.open(results[0][0]) as reader:
        assert reader.read() == data


def _concurrent_processes(store: BlobStore) -> None:
    data = os.urandom(8 << 20)
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_child_put, args=(store, data, start)) for _ in range(2)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0], "a concurrent writer failed"
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())
    with store.open(digest) as reader:
        assert reader.read() == data


def _child_put(store: BlobStore, data: bytes, start: object) -> None:
    start.wait(10)  # type: ignore[attr-defined]
    for _ in range(3):
        store.put(io.BytesIO(data))
    os._exit(0)


def _raises(kind: type[Exception], action: Callable[[], object]) -> None:
    try:
        action()
    except kind:
        return
    raise AssertionError(f"expected {kind.__name__}")


class _PausingStream:
    """Yields half the data, then waits until released."""

    def __init__(self, data: bytes, halfway: threading.Event, release: threading.Event) -> None:
        self._data = io.BytesIO(data)
        self._half = len(data) // 2
        self._halfway = halfway
        self._release = release

    def read(self, size: int = -1) -> bytes:
        if self._data.tell() >= self._half and not self._release.is_set():
            self._halfway.set()
            self._release.wait(10)
        limit = self._half - self._data.tell() if self._data.tell() < self._half else size
        return self._data.read(min(size, limit) if size > 0 else limit)
