"""The local image store: blobs in an OCI image layout, metadata in SQLite.

See :mod:`hoist.store.store` for the layout on disk and the locking rules.
Names are imported lazily (PEP 562), so that ``hoist.store.location`` and
``hoist.store.quick`` stay cheap for the CLI's start-up and no-op paths.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hoist.store.blobs import BlobStore, DirBlobStore, VerifiedReader, read_small
    from hoist.store.records import ImageSummary, RemoveEvent, StoredImage
    from hoist.store.store import Store, default_root

_WHERE = {
    "BlobStore": "blobs",
    "DirBlobStore": "blobs",
    "VerifiedReader": "blobs",
    "read_small": "blobs",
    "ImageSummary": "records",
    "RemoveEvent": "records",
    "StoredImage": "records",
    "Store": "store",
    "default_root": "location",
}

__all__ = [
    "BlobStore",
    "DirBlobStore",
    "ImageSummary",
    "RemoveEvent",
    "Store",
    "StoredImage",
    "VerifiedReader",
    "default_root",
    "read_small",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hoist.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hoist.store.{module}"), name)
