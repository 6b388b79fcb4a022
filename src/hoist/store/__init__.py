"""The local image store: blobs in an OCI image layout, metadata in SQLite.

See :mod:`hoist.store.store` for the layout on disk and the locking rules.
"""

from hoist.store.blobs import BlobStore, DirBlobStore, VerifiedReader, read_small
from hoist.store.records import ImageSummary, RemoveEvent, StoredImage
from hoist.store.store import Store, default_root

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
