"""``hoist rmi``: untag and delete images with docker's rules.

* By tag: the tag is removed; the image goes too when that was its last tag
  and no child image needs it; then its untagged, childless parents go as well.
* By ID: refused when the image has children, or tags in more than one
  repository, unless ``force``; otherwise all its tags go and the image too.
* An image a kept container holds (``holds`` table) is never deleted, even
  with ``force``: removing it by tag only untags it.

Blobs and unpacked layers no longer used are collected right away when no
other hoist process holds a lease (else by the next ``hoist prune``).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from hoist.errors import ImageInUse, StoreLocked
from hoist.models.digest import Digest
from hoist.store.records import RemoveEvent
from hoist.store.resolve import resolve_image

if TYPE_CHECKING:
    from hoist.store.store import Store


def remove_image(
    store: Store, text: str, *, force: bool = False, prune: bool = True
) -> list[RemoveEvent]:
    """Remove what ``text`` names; return docker's ``Untagged:``/``Deleted:`` lines.

    Raises:
        ImageNotFound: nothing matches ``text``.
        ImageInUse: the image has children or tags in several repositories (without force).
    """
    image_id, via_tag = resolve_image(store.db, text)
    events: list[RemoveEvent] = []
    if via_tag is not None:
        store.untag(via_tag)
        events.append(RemoveEvent("Untagged", via_tag.familiar))
        if store.tags_of(image_id) or store.children(image_id) or _held(store, image_id):
            return events
    else:
        _check_conflicts(store, image_id, text, force)
        for ref in store.tags_of(image_id):
            store.untag(ref)
            events.append(RemoveEvent("Untagged", ref.familiar))
    events += _delete_chain(store, image_id, prune)
    collect_quietly(store)
    return events


def _check_conflicts(store: Store, image_id: Digest, text: str, force: bool) -> None:
    holders = store.tables.holders_of(image_id)
    if holders:
        # even with force: the kept container's layers would go with the image
        short = holders[0].removeprefix("container:")[:12]
        raise ImageInUse(
            f"conflict: unable to delete {text} (cannot be forced) - "
            f"image is being used by kept container {short}",
            hint=f"remove the container first: hoist rm {short}",
        )
    if force:
        return
    if store.children(image_id):
        raise ImageInUse(
            f"conflict: unable to delete {text} (must be forced) - image has dependent child images"
        )
    repos = {ref.name for ref in store.tags_of(image_id)}
    if len(repos) > 1:
        raise ImageInUse(
            f"conflict: unable to delete {text} (must be forced) - "
            "image is referenced in multiple repositories"
        )


def _delete_chain(store: Store, image_id: Digest, prune: bool) -> list[RemoveEvent]:
    events = []
    current: Digest | None = image_id
    while current is not None:
        parent = delete_record(store, current)
        events.append(RemoveEvent("Deleted", str(current)))
        if not prune or parent is None or store.tags_of(parent) or store.children(parent):
            break
        if _held(store, parent):
            break
        current = parent
    return events


def _held(store: Store, image_id: Digest) -> bool:
    return bool(store.tables.holders_of(image_id))


def delete_record(store: Store, image_id: Digest) -> Digest | None:
    """Delete one image's records (tags, layers, cache entries); return its parent."""
    ident = str(image_id)
    with store.db.transaction() as tx:
        row = tx.execute("SELECT parent FROM images WHERE id=?", (ident,)).fetchone()
        tx.execute("DELETE FROM images WHERE id=?", (ident,))
        tx.execute("DELETE FROM image_layers WHERE image_id=?", (ident,))
        tx.execute("DELETE FROM tags WHERE image_id=?", (ident,))
        tx.execute("DELETE FROM build_cache WHERE image_id=?", (ident,))
        tx.execute("UPDATE images SET parent=NULL WHERE parent=?", (ident,))
    store.sync_index()
    return Digest.parse(row[0]) if row and row[0] else None


def collect_quietly(store: Store) -> None:
    """Collect garbage now if no other process holds a lease; never wait."""
    from hoist.store.gc import collect_garbage

    with contextlib.suppress(StoreLocked):
        collect_garbage(store, wait=0.0)
