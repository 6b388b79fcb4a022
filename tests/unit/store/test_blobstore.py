"""The blob-store conformance check on both stores, plus directory-store specifics."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pytest

from hoist.errors import DigestMismatch
from hoist.models.digest import Digest, sha256_of
from hoist.store import DirBlobStore, Store
from hoist.store.blobs import BlobStore, read_small
from hoist.testing.blobstore import MemoryBlobStore, check_blob_store


def _dir_store(tmp_path: Path) -> DirBlobStore:
    root = tmp_path / f"s{len(list(tmp_path.iterdir()))}"
    return Store.open(root).blobs


def _corrupt_file(store: BlobStore, digest: Digest) -> None:
    assert isinstance(store, DirBlobStore)
    path = store.path(digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _corrupt_memory(store: BlobStore, digest: Digest) -> None:
    assert isinstance(store, MemoryBlobStore)
    store.corrupt(digest)


def test_directory_store_conforms(tmp_path: Path) -> None:
    check_blob_store(lambda: _dir_store(tmp_path), corrupt=_corrupt_file, processes=True)


def test_memory_store_conforms() -> None:
    check_blob_store(MemoryBlobStore, corrupt=_corrupt_memory)
    check_blob_store(MemoryBlobStore)  # the default corrupter knows the shipped stores


def test_conformance_check_catches_a_store_that_does_not_verify() -> None:
    class Careless(MemoryBlobStore):
        def open(self, digest: Digest) -> io.BytesIO:  # type: ignore[override]
            super().open(digest)  # for BlobNotFound
            return io.BytesIO(self._blobs[digest])

    with pytest.raises(AssertionError, match="DigestMismatch"):
        check_blob_store(Careless, corrupt=_corrupt_memory)


def test_blobs_live_in_an_oci_layout(tmp_path: Path) -> None:
    blobs = _dir_store(tmp_path)
    digest, _ = blobs.put_bytes(b"hello")
    assert blobs.path(digest) == blobs.root / "blobs" / "sha256" / digest.hex
    assert blobs.path(digest).read_bytes() == b"hello"
    assert list((blobs.root / "ingest").iterdir()) == []
    assert oct(blobs.root.stat().st_mode & 0o777) == "0o700"


def test_failed_put_leaves_no_temp_file(tmp_path: Path) -> None:
    blobs = _dir_store(tmp_path)
    with pytest.raises(DigestMismatch):
        blobs.put_bytes(b"evil", expected=sha256_of(b"good"))
    assert list((blobs.root / "ingest").iterdir()) == []
    assert list(blobs.digests()) == []


def test_put_repairs_a_corrupted_copy(tmp_path: Path) -> None:
    blobs = _dir_store(tmp_path)
    digest, _ = blobs.put_bytes(b"content" * 1000)
    _corrupt_file(blobs, digest)
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        read_small(blobs, digest)
    blobs.put_bytes(b"content" * 1000)
    assert read_small(blobs, digest) == b"content" * 1000


def test_killed_writer_leaves_nothing_visible_and_its_temp_is_cleaned(tmp_path: Path) -> None:
    blobs = _dir_store(tmp_path)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: write half a blob from a pipe that never finishes
        os.close(write_fd)
        try:
            blobs.put(os.fdopen(read_fd, "rb", buffering=0))
        finally:
            os._exit(1)
    os.close(read_fd)
    os.write(write_fd, b"x" * 100_000)
    deadline = time.monotonic() + 10
    while not any(p.stat().st_size for p in (blobs.root / "ingest").iterdir()):
        assert time.monotonic() < deadline, "child never started writing"
        time.sleep(0.01)
    assert blobs.clean_ingest() == 0  # a live writer's temp file is kept
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(write_fd)
    assert list(blobs.digests()) == []
    leftovers = list((blobs.root / "ingest").iterdir())
    assert len(leftovers) == 1
    old = time.time() - 3600
    os.utime(leftovers[0], (old, old))
    assert blobs.clean_ingest() == 1
    assert list((blobs.root / "ingest").iterdir()) == []


def test_ingest_file_is_committed_without_a_copy(tmp_path: Path) -> None:
    blobs = _dir_store(tmp_path)
    data = b"layer bytes" * 1000
    with blobs.ingest_file() as (out, path):
        out.write(data)
        out.flush()
        inode = path.stat().st_ino
        assert blobs.clean_ingest() == 0
        with pytest.raises(DigestMismatch):
            blobs.commit_ingested(path, sha256_of(data), len(data) + 1)
        blobs.commit_ingested(path, sha256_of(data), len(data))
    assert blobs.path(sha256_of(data)).stat().st_ino == inode
    assert read_small(blobs, sha256_of(data)) == data
    with blobs.ingest_file() as (out, path):
        out.write(b"abandoned")
    assert list((blobs.root / "ingest").iterdir()) == []
