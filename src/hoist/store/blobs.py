"""Content-addressed blobs in an OCI image layout (``blobs/<alg>/<hex>``).

Contract of every :class:`BlobStore` (checked by
:func:`hoist.testing.blobstore.check_blob_store`):

* ``put`` streams, hashes while writing, and commits atomically: a blob is
  visible under its digest only once complete, verified and durable. Putting
  a blob that is already there succeeds (idempotent). Two writers of the same
  blob, in two processes, both succeed.
* ``open`` returns a reader that raises :class:`DigestMismatch` at EOF when the
  content does not hash to its digest (or has the wrong size). Callers must
  read to EOF before trusting what they read (go-containerregistry #2303).
* The store never returns a whole blob as ``bytes`` except through
  :func:`read_small`, which is bounded and meant for manifests and configs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from hoist.errors import BlobNotFound, DigestMismatch, InvalidDigest, StoreError
from hoist.fs.atomic import fsync_dir
from hoist.models.digest import Digest

CHUNK = 1 << 20
INGEST_GRACE_SECONDS = 10.0


class BlobStore(Protocol):
    """Where blobs live. See the module docstring for the contract."""

    def put(
        self, stream: BinaryIO, *, expected: Digest | None = None, size: int | None = None
    ) -> tuple[Digest, int]:
        """Store everything ``stream`` yields; return its digest and size.

        Raises:
            DigestMismatch: content does not match ``expected`` or ``size``
                (nothing is stored then).
        """
        ...

    def put_bytes(self, data: bytes, *, expected: Digest | None = None) -> tuple[Digest, int]: ...

    def open(self, digest: Digest) -> BinaryIO:
        """A reader verified at EOF.

        Raises:
            BlobNotFound: no such blob.
        """
        ...

    def has(self, digest: Digest) -> bool: ...

    def size(self, digest: Digest) -> int:
        """Raises: BlobNotFound."""
        ...

    def delete(self, digest: Digest) -> None:
        """Remove a blob; no error when it is absent."""
        ...

    def digests(self) -> Iterator[Digest]: ...


class VerifiedReader(io.RawIOBase):
    """Reads a blob and checks digest and size when EOF is reached.

    Raises (from ``read``):
        DigestMismatch: at EOF, or as soon as more bytes than ``size`` arrive.
    """

    def __init__(self, raw: BinaryIO, digest: Digest, size: int | None, name: str) -> None:
        self._raw = raw
        self._digest = digest
        self._size = size
        self._name = name
        self._hash = hashlib.new(digest.algorithm)
        self._count = 0
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        if not data:
            self._verify()
            return 0
        self._hash.update(data)
        self._count += len(data)
        if self._size is not None and self._count > self._size:
            raise DigestMismatch(f"reading blob {self._name}: more than {self._size} bytes")
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def _verify(self) -> None:
        if self._checked:
            return
        self._checked = True
        if self._size is not None and self._count != self._size:
            raise DigestMismatch(
                f"reading blob {self._name}: size {self._count} but expected {self._size}"
            )
        if self._hash.hexdigest() != self._digest.hex:
            raise DigestMismatch(
                f"store corruption: {self._digest} digest mismatch "
                f"(content hashes to {self._digest.algorithm}:{self._hash.hexdigest()})"
            )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()
        super().close()


def open_verified(raw: BinaryIO, digest: Digest, size: int | None, name: str) -> BinaryIO:
    return io.BufferedReader(VerifiedReader(raw, digest, size, name), CHUNK)  # type: ignore[return-value]


def read_small(store: BlobStore, digest: Digest, limit: int = 8 * 1024 * 1024) -> bytes:
    """Read a whole (small) blob, verified, e.g. a manifest or a config.

    Raises:
        BlobNotFound, DigestMismatch, StoreError: when over ``limit`` bytes.
    """
    if store.size(digest) > limit:
        raise StoreError(f"reading blob {digest}: larger than {limit} bytes")
    with store.open(digest) as reader:
        return reader.read()


def drain(reader: BinaryIO) -> int:
    """Read to EOF (so verification runs); return the number of bytes."""
    total = 0
    while chunk := reader.read(CHUNK):
        total += len(chunk)
    return total


def check_content(
    digest: Digest, size: int, expected: Digest | None, want_size: int | None, what: str
) -> None:
    """Raises: DigestMismatch when ``digest``/``size`` differ from what was expected."""
    if want_size is not None and size != want_size:
        raise DigestMismatch(f"writing {what}: size {size} but expected {want_size}")
    if expected is not None and digest != expected:
        raise DigestMismatch(f"writing {what}: digest mismatch: got {digest}, expected {expected}")


class DirBlobStore:
    """Blobs as files under ``<root>/blobs``; temp files under ``<root>/ingest``.

    The ingest dir is on the same filesystem, so the final rename is atomic.
    A writer holds an flock on its temp file, so :meth:`clean_ingest` can tell
    abandoned temp files (a killed writer) from live ones.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs"
        self.ingest_dir = root / "ingest"

    def path(self, digest: Digest) -> Path:
        # Digest values are validated at construction, so this join is safe.
        return self.blob_dir / digest.algorithm / digest.hex

    def put(
        self, stream: BinaryIO, *, expected: Digest | None = None, size: int | None = None
    ) -> tuple[Digest, int]:
        """See :class:`BlobStore`. Raises: DigestMismatch, StoreError (I/O)."""
        algorithm = expected.algorithm if expected is not None else "sha256"
        what = f"blob {expected}" if expected else "blob"
        try:
            fd, tmp = tempfile.mkstemp(dir=self.ingest_dir, prefix="blob-")
        except OSError as exc:
            raise StoreError(f"writing {what} into {self.ingest_dir}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            digest, count = _copy_hashed(stream, fd, algorithm, size, what)
            check_content(digest, count, expected, size, what)
            self._commit(tmp, digest)
            return digest, count
        except OSError as exc:
            raise StoreError(f"writing {what}: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _commit(self, tmp: str, digest: Digest) -> None:
        final = self.path(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o644)
        # Replacing an existing copy is harmless (same content) and repairs a
        # corrupted one; open readers keep the old inode.
        os.replace(tmp, final)
        fsync_dir(final.parent)

    def put_bytes(self, data: bytes, *, expected: Digest | None = None) -> tuple[Digest, int]:
        return self.put(io.BytesIO(data), expected=expected, size=len(data))

    @contextlib.contextmanager
    def ingest_file(self) -> Iterator[tuple[BinaryIO, Path]]:
        """A temp file in ``ingest/`` for a writer that hashes as it writes (a layer tar).

        The file is flocked, so :meth:`clean_ingest` leaves it alone, and removed
        on exit unless :meth:`commit_ingested` moved it into place first.
        Raises:
            StoreError: the file cannot be created.
        """
        try:
            fd, tmp = tempfile.mkstemp(dir=self.ingest_dir, prefix="blob-")
        except OSError as exc:
            raise StoreError(f"creating a temp file in {self.ingest_dir}: {exc.strerror}") from exc
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with os.fdopen(fd, "w+b") as out:
                yield out, Path(tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def commit_ingested(self, path: Path, digest: Digest, size: int) -> None:
        """Move a complete ingest file into place as ``digest`` without copying it.

        ``digest`` must have been computed over exactly the bytes written (the
        writer hashed while writing); the file is fsynced here.
        Raises:
            DigestMismatch: the file's size is not ``size``.
            StoreError: I/O failure.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                actual = os.fstat(fd).st_size
                if actual != size:
                    raise DigestMismatch(f"writing blob {digest}: size {actual}, expected {size}")
                os.fsync(fd)
            finally:
                os.close(fd)
            self._commit(str(path), digest)
        except OSError as exc:
            raise StoreError(f"writing blob {digest}: {exc.strerror or exc}") from exc

    def open(self, digest: Digest) -> BinaryIO:
        try:
            raw = open(self.path(digest), "rb")  # noqa: SIM115 -- closed by the reader
        except FileNotFoundError as exc:
            raise BlobNotFound(f"reading blob {digest}: not in the store") from exc
        except OSError as exc:
            raise StoreError(f"reading blob {digest}: {exc.strerror}") from exc
        return open_verified(raw, digest, None, str(digest))

    def has(self, digest: Digest) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFound(f"reading blob {digest}: not in the store") from exc

    def delete(self, digest: Digest) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def digests(self) -> Iterator[Digest]:
        for algorithm in ("sha256", "sha512"):
            folder = self.blob_dir / algorithm
            if not folder.is_dir():
                continue
            for entry in sorted(os.listdir(folder)):
                yield from _parsed(algorithm, entry)

    def stray_files(self) -> list[Path]:
        """Files under ``blobs/`` whose names are not valid digests."""
        stray: list[Path] = []
        for folder in sorted(self.blob_dir.iterdir()) if self.blob_dir.is_dir() else []:
            names = sorted(os.listdir(folder)) if folder.is_dir() else [""]
            stray += [folder / n for n in names if not list(_parsed(folder.name, n))]
        return stray

    def clean_ingest(self) -> int:
        """Remove temp files of writers that died; return how many were removed."""
        removed = 0
        for entry in self.ingest_dir.iterdir() if self.ingest_dir.is_dir() else []:
            if _abandoned(entry):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed += 1
        return removed


def _copy_hashed(
    stream: BinaryIO, fd: int, algorithm: str, size: int | None, what: str
) -> tuple[Digest, int]:
    hasher = hashlib.new(algorithm)
    count = 0
    while chunk := stream.read(CHUNK):
        count += len(chunk)
        if size is not None and count > size:
            raise DigestMismatch(f"writing {what}: more than the expected {size} bytes")
        hasher.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
    os.fsync(fd)
    return Digest(algorithm, hasher.hexdigest()), count


def _parsed(algorithm: str, name: str) -> Iterator[Digest]:
    try:
        yield Digest(algorithm, name)
    except InvalidDigest:
        return


def _abandoned(path: Path) -> bool:
    # A writer flocks its temp file right after creating it; the age check
    # covers the instant in between.
    try:
        if time.time() - path.lstat().st_mtime < INGEST_GRACE_SECONDS:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
