"""Garbage collection (``hoist prune``) and verification (``hoist fsck``).

Reachability comes from the database: manifests, configs and layer blobs of
every image, plus memoised compressed forms of diff_ids some image still uses.
Everything else under ``blobs/`` is garbage. Collection holds ``gc.lock``
exclusively, so it never races a writer holding :meth:`Store.lease`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import msgspec

from hoist.errors import BlobNotFound
from hoist.fs.lock import file_lock
from hoist.models.digest import Digest
from hoist.store.layers import remove_unused_layers
from hoist.store.records import RemoveEvent

if TYPE_CHECKING:
    from hoist.store.store import Store


class Collected(msgspec.Struct):
    blobs: list[Digest] = msgspec.field(default_factory=list)
    layers: list[Digest] = msgspec.field(default_factory=list)
    reclaimed: int = 0


def referenced_blobs(store: Store) -> set[Digest]:
    rows = store.db.query(
        "SELECT manifest_digest FROM images UNION SELECT id FROM images"
        " UNION SELECT blob FROM image_layers"
        " UNION SELECT digest FROM compressed_blobs WHERE diff_id IN"
        " (SELECT diff_id FROM image_layers)"
    )
    return {Digest.parse(r[0]) for r in rows}


def collect_garbage(store: Store, *, wait: float | None = None) -> Collected:
    """Delete unreferenced blobs, unused unpacked layers and dead ingest files.

    Raises:
        StoreLocked: another process holds a lease and ``wait`` ran out.
    """
    done = Collected()
    with file_lock(store.root / "locks" / "gc.lock", timeout=wait):
        keep = referenced_blobs(store)
        for digest in list(store.blobs.digests()):
            if digest not in keep:
                with contextlib.suppress(BlobNotFound):
                    done.reclaimed += store.blobs.size(digest)
                store.blobs.delete(digest)
                done.blobs.append(digest)
        with store.db.transaction() as tx:
            tx.execute(
                "DELETE FROM compressed_blobs"
                " WHERE diff_id NOT IN (SELECT diff_id FROM image_layers)"
            )
        done.layers = remove_unused_layers(store)
        store.blobs.clean_ingest()
    return done


def prune(store: Store) -> tuple[list[RemoveEvent], Collected]:
    """Remove dangling images (untagged, no children) until none is left, then collect.

    Removing a dangling image can make its untagged parent dangling, so whole
    chains of intermediate images under an untagged top go, as with docker.
    Images a kept container holds stay (``docker image prune`` skips images
    containers use).
    Raises:
        StoreLocked: another process kept its lease for over a minute.
    """
    from hoist.store.remove import delete_record

    events: list[RemoveEvent] = []
    while True:
        listed = store.list_images(include_intermediate=True)
        held = {image_id for _, image_id, _ in store.tables.holds()}
        doomed = [
            s.id for s in listed if not s.tags and not s.has_children and str(s.id) not in held
        ]
        if not doomed:
            break
        for image_id in doomed:
            delete_record(store, image_id)
            events.append(RemoveEvent("Deleted", str(image_id)))
    return events, collect_garbage(store, wait=60.0)
