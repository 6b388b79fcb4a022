"""Values the store hands out: stored images and summaries for listings."""

from __future__ import annotations

import msgspec

from hoist.image.image import Image
from hoist.image.manifest import Manifest
from hoist.models.digest import Digest
from hoist.models.reference import Reference


class ImageSummary(msgspec.Struct, frozen=True):
    """One row of ``hoist images``: an image and its tags (no blob reads)."""

    id: Digest
    manifest_digest: Digest
    parent: Digest | None
    created: str | None
    size: int
    tags: tuple[Reference, ...]
    has_children: bool


class StoredImage(msgspec.Struct, frozen=True):
    """An image read back from the store, with its manifest and its record."""

    id: Digest
    image: Image
    manifest_digest: Digest
    manifest: Manifest
    manifest_bytes: bytes
    parent: Digest | None
    created: str | None
    size: int
    tags: tuple[Reference, ...]


class RemoveEvent(msgspec.Struct, frozen=True):
    """``Untagged: busybox:latest`` or ``Deleted: sha256:…``, as docker prints them."""

    kind: str  # "Untagged" | "Deleted"
    what: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.what}"
