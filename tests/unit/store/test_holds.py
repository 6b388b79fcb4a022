"""Holds: an image a kept container needs survives prune and rmi (even forced)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.errors import ImageInUse
from hoist.image import Image
from hoist.models.digest import Digest
from hoist.models.reference import Reference
from hoist.store import Store
from hoist.testing.images import with_layer


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "root") as opened:
        yield opened  # type: ignore[misc]


def chain(store: Store, depth: int) -> list[Digest]:
    ids: list[Digest] = []
    image = Image.scratch()
    for step in range(depth):
        image = with_layer(store, image, {f"f{step}": f"held{step}".encode()}, f"RUN {step}")
        ids.append(store.write_image(image, parent=ids[-1] if ids else None))
    return ids


def existing(store: Store) -> set[Digest]:
    return {s.id for s in store.list_images(include_intermediate=True)}


def test_prune_keeps_a_held_image_and_its_parents(store: Store) -> None:
    ids = chain(store, 3)
    store.tables.hold_put("container:x", ids[1])
    events, _ = store.prune()
    assert [e.what for e in events] == [str(ids[2])]
    assert existing(store) == {ids[0], ids[1]}
    assert all(store.blobs.has(layer.digest) for layer in store.get_image(ids[1]).image.layers)
    store.tables.hold_delete("container:x")
    store.prune()
    assert existing(store) == set()


def test_rmi_refuses_a_held_image_even_forced(store: Store) -> None:
    ids = chain(store, 2)
    store.tables.hold_put("container:" + "c" * 64, ids[1])
    for force in (False, True):
        with pytest.raises(ImageInUse, match="used by kept container cccccccccccc"):
            store.remove_image(str(ids[1]), force=force)
    assert existing(store) == set(ids)


def test_rmi_by_tag_only_untags_a_held_image(store: Store) -> None:
    ids = chain(store, 2)
    store.tag(ids[1], Reference.parse("held:1"))
    store.tables.hold_put("container:y", ids[1])
    events = store.remove_image("held:1")
    assert [str(e) for e in events] == ["Untagged: held:1"]
    assert existing(store) == set(ids)


def test_rmi_chain_stops_at_a_held_parent(store: Store) -> None:
    ids = chain(store, 3)
    store.tag(ids[2], Reference.parse("top:1"))
    store.tables.hold_put("container:z", ids[0])
    store.remove_image("top:1")
    assert existing(store) == {ids[0]}
