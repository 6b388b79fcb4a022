"""Turning a step's filesystem change into a layer of a new image.

The change set is written once as a deterministic tar into the store's ingest
directory (hashed while written: that is the diff_id), then recorded as an
uncompressed layer blob. The overlay upper dir becomes the layer's unpacked
form in the store, so the next step mounts it without extracting anything.
RUN, COPY, ADD and WORKDIR (but ``WORKDIR /``) always get a layer, empty or
not, as BuildKit writes them (:func:`hoist.plan.creates_layer`).
"""

from __future__ import annotations

from hoist.image import Descriptor, History, Image, mediatypes
from hoist.image.mutate import append_history, append_layer
from hoist.layer.changes import ChangeSet, trim_upper
from hoist.layer.tarwriter import LayerDigest, write_layer
from hoist.snapshot.base import MutableSnapshot
from hoist.store import Store


def commit_snapshot(
    store: Store,
    snap: MutableSnapshot,
    image: Image,
    history: History,
    *,
    source_date_epoch: int | None = None,
    always_layer: bool = False,
) -> Image:
    """The image with ``snap``'s changes as a new top layer (or an empty-layer entry).

    Raises:
        LayerError: a changed entry cannot be read.
        StoreError: the layer cannot be written into the store.
    """
    changes = snap.changes()
    if not changes.changes and not always_layer:
        return append_history(image, history)
    layer, digest = _store_layer(store, changes, source_date_epoch)
    upper = snap.commit_dir()
    if upper is not None:
        trim_upper(changes)  # the unpacked form holds what the tar does, over any parent
        store.adopt_layer_dir(digest.diff_id, upper)
    return append_layer(image, layer, digest.diff_id, history)


def _store_layer(
    store: Store, changes: ChangeSet, source_date_epoch: int | None
) -> tuple[Descriptor, LayerDigest]:
    """Write the tar once into the store's ingest dir (hashed as written) and commit it."""
    with store.blobs.ingest_file() as (out, path):
        digest = write_layer(changes, out, source_date_epoch=source_date_epoch)
        out.flush()
        store.blobs.commit_ingested(path, digest.diff_id, digest.size)
    return Descriptor(mediatypes.OCI_LAYER, digest.diff_id, digest.size), digest
