"""Small images built in memory for tests: one tar layer per call, plain blobs."""

from __future__ import annotations

import io
import tarfile
from typing import TYPE_CHECKING

from hoist.image import mediatypes as mt
from hoist.image.config import History
from hoist.image.descriptor import Descriptor
from hoist.image.image import Image
from hoist.image.mutate import append_history, append_layer

if TYPE_CHECKING:
    from hoist.store.store import Store


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A deterministic tar of regular files (mode 0644, uid 0, mtime 0)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def with_layer(store: Store, image: Image, files: dict[str, bytes], created_by: str) -> Image:
    """``image`` plus an uncompressed layer holding ``files`` (its blob put into ``store``)."""
    digest, size = store.blobs.put_bytes(tar_bytes(files))
    layer = Descriptor(mt.OCI_LAYER, digest, size)
    return append_layer(image, layer, digest, History(created_by=created_by))


def with_note(image: Image, created_by: str) -> Image:
    """``image`` plus an empty-layer history entry (like ENV or CMD)."""
    return append_history(image, History(created_by=created_by))
