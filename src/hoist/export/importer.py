"""``hoist import ROOTFS.tar [REF]``: a tarball becomes a one-layer image, like ``docker import``.

The tarball may be plain, gzip, zstd, bzip2 or xz. It is scanned first (every
entry name and hardlink target checked, offsets monotonic, entries bounded),
and only then streamed, uncompressed, into the store as the layer blob
(digest == diff_id). Input from stdin (``-``) is spooled into the store's
ingest dir first, since it is read twice.
"""

from __future__ import annotations

import contextlib
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from msgspec.structs import replace

from hoist.errors import ArchiveError
from hoist.export.changes import apply_changes
from hoist.export.tarsafe import TAR_ERRORS, iter_members, translate
from hoist.image import mediatypes as mt
from hoist.image.config import History
from hoist.image.descriptor import Descriptor
from hoist.image.image import Image
from hoist.image.mutate import append_layer, set_container_config, set_created
from hoist.layer.codec import open_decompressed
from hoist.models.digest import Digest
from hoist.models.platform import Platform
from hoist.models.reference import Reference
from hoist.store.store import Store

_CHUNK = 1 << 20


def now_rfc3339() -> str:
    """The current time as docker writes ``created`` (UTC, nanoseconds, ``Z``)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"


def import_tarball(
    store: Store,
    source: str,
    ref: Reference | None = None,
    *,
    changes: list[str] | None = None,
    message: str = "",
    platform: Platform | None = None,
) -> Digest:
    """Import ``source`` (a path or ``-``); tag it ``ref``; return the image ID.

    Raises:
        ArchiveError: unreadable, corrupt or hostile tarball (names the file and entry).
        UserInputError: a bad ``--change``.
    """
    image = Image.scratch(platform)
    image = set_container_config(image, apply_changes(image.config.config, changes or []))
    with store.lease(), _opened(source, store.root / "ingest") as raw:
        _scan(raw, source)
        raw.seek(0)
        digest, size = store.blobs.put(_plain(raw, source))
        created = now_rfc3339()
        history = History(created=created, comment=message or "Imported from -")
        layer = Descriptor(mt.OCI_LAYER, digest, size)
        image = set_created(append_layer(image, layer, digest, history), created)
        image = replace(image, config=replace(image.config, history=(history,)))
        image_id = store.write_image(image)
    if ref is not None:
        store.tag(image_id, ref)
    return image_id


@contextlib.contextmanager
def _opened(source: str, scratch: Path) -> Iterator[BinaryIO]:
    if source == "-":
        with tempfile.TemporaryFile(dir=scratch) as spool:
            while chunk := sys.stdin.buffer.read(_CHUNK):
                spool.write(chunk)
            spool.seek(0)
            yield spool  # type: ignore[misc]
        return
    try:
        stream = open(source, "rb")  # noqa: SIM115 -- closed below
    except OSError as exc:
        raise ArchiveError(f"importing {source}: {exc.strerror}") from exc
    with stream:
        yield stream


def _plain(raw: BinaryIO, name: str) -> BinaryIO:
    return _Named(open_decompressed(raw), name)  # type: ignore[return-value]


def _scan(raw: BinaryIO, name: str) -> None:
    """Check every entry of the tarball without writing anything."""
    try:
        with tarfile.open(fileobj=_plain(raw, name), mode="r|") as tar:  # type: ignore[call-overload]
            count = sum(1 for _ in iter_members(tar, name))
    except TAR_ERRORS as exc:
        raise translate(exc, name) from exc
    if count == 0:
        raise ArchiveError(f"reading {name}: not a tar archive (no entries)")


class _Named:
    """Prefixes decompression errors with the file name."""

    def __init__(self, inner: BinaryIO, name: str) -> None:
        self._inner = inner
        self._name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._inner.read(size)
        except ArchiveError as exc:
            raise ArchiveError(f"reading {self._name}: {exc.message}") from exc
