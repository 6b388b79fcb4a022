"""Kept containers on disk: the record, keep/find/remove, orphan holds; recovery leaves them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hoist.runtime.kept import (
    HOLD_PREFIX,
    ContainerNotFound,
    KeptContainer,
    KeptProcess,
    find,
    keep,
    kept_dir,
    kept_root,
    list_kept,
    new_id,
    remove,
    remove_all,
)
from hoist.runtime.owner import write_record
from hoist.runtime.recovery import recover
from hoist.store import Store

PARENT = "sha256:" + "ab" * 32


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "root") as opened:
        yield opened  # type: ignore[misc]


def record(cid: str, *, state: str | None = "upper", created: float = 1.0) -> KeptContainer:
    process = KeptProcess(("/bin/sh", "-c", "make"), ("A=1",), "/w", 1000, 1000, (27,), "app")
    return KeptContainer(
        id=cid, created=created, finished=created + 2, image_id=PARENT, instruction="RUN make",
        line=4, dockerfile="Dockerfile", process=process, exit_status=2,
        layers=((PARENT, PARENT),), state=state, stage="build", held_image=PARENT,
    )  # fmt: skip


def kept_with_state(store: Store, cid: str, created: float = 1.0) -> Path:
    """Keep ``cid`` the way a build does: its upper dir inside a (live) snapshot dir."""
    snapshot = store.root / "snapshots" / cid
    snapshot.mkdir(parents=True)
    write_record(snapshot, {"kind": "snapshot"})
    (snapshot / "upper").mkdir()
    (snapshot / "upper" / "made-by-step").write_text("x")
    return keep(store, record(cid, created=created), snapshot / "upper")


def test_record_round_trips_through_json() -> None:
    original = record(new_id())
    assert KeptContainer.from_json(original.to_json()) == original
    assert len(original.id) == 64 and original.short_id == original.id[:12]


def test_keep_moves_the_state_and_holds_the_image(store: Store) -> None:
    cid = new_id()
    final = kept_with_state(store, cid)
    assert final == kept_dir(store.root, cid)
    assert (final / "upper" / "made-by-step").read_text() == "x"
    assert not (store.root / "snapshots" / cid / "upper").exists()
    assert [h[:2] for h in store.tables.holds()] == [(HOLD_PREFIX + cid, PARENT)]
    (listed,) = list_kept(store)
    assert (listed.id, listed.process.user, listed.state) == (cid, "app", "upper")


def test_a_successful_step_keeps_a_record_only(store: Store) -> None:
    cid = new_id()
    final = keep(store, record(cid, state=None), None)
    assert sorted(p.name for p in final.iterdir()) == ["container.json"]
    assert [c.id for c in list_kept(store)] == [cid]


def test_find_takes_a_full_id_or_a_unique_prefix(store: Store) -> None:
    first, second = "abc1" + "0" * 60, "abc2" + "0" * 60
    for cid in (first, second):
        keep(store, record(cid, state=None), None)
    assert find(store, first) == first
    assert find(store, "abc2") == second
    assert find(store, "ABC1") == first
    with pytest.raises(ContainerNotFound, match="multiple containers match"):
        find(store, "abc")
    with pytest.raises(ContainerNotFound, match="no such container"):
        find(store, "ffff")
    with pytest.raises(ContainerNotFound):
        find(store, "")


def test_list_is_newest_first(store: Store) -> None:
    old, new = new_id(), new_id()
    kept_with_state(store, old, created=10.0)
    kept_with_state(store, new, created=20.0)
    assert [c.id for c in list_kept(store)] == [new, old]


def test_remove_deletes_the_dir_then_the_hold(store: Store) -> None:
    cid = new_id()
    kept_with_state(store, cid)
    remove(store, cid)
    assert not kept_dir(store.root, cid).exists()
    assert store.tables.holds() == []
    remove(store, cid)  # idempotent


def test_orphan_holds_are_dropped_only_after_a_grace(store: Store) -> None:
    store.tables.hold_put(HOLD_PREFIX + "young", PARENT)
    store.tables.hold_put(HOLD_PREFIX + "old", PARENT)
    store.tables.hold_put("other-holder", PARENT)
    an_hour_ago = time.time() - 3600
    with store.db.transaction() as tx:
        for holder in ("container:old", "other-holder"):
            tx.execute("UPDATE holds SET created=? WHERE holder=?", (an_hour_ago, holder))
    list_kept(store)
    assert sorted(h[0] for h in store.tables.holds()) == ["container:young", "other-holder"]


def test_remove_all_removes_every_container_and_leftovers(store: Store) -> None:
    ids = [new_id(), new_id()]
    for cid in ids:
        kept_with_state(store, cid)
    (kept_root(store.root) / ".rm-dead").mkdir()
    stale = kept_root(store.root) / ".keep-stale"
    stale.mkdir()
    os.utime(stale, (1, 1))
    young = kept_root(store.root) / ".keep-young"
    young.mkdir()
    assert sorted(remove_all(store)) == sorted(ids)
    assert [p.name for p in kept_root(store.root).iterdir()] == [".keep-young"]
    assert store.tables.holds() == []


def test_recovery_leaves_kept_containers_alone(store: Store) -> None:
    cid = new_id()
    kept_with_state(store, cid)
    os.utime(kept_dir(store.root, cid), (1, 1))  # old and without an owner record
    dead = store.root / "snapshots" / "dead"
    dead.mkdir()
    (dead / f".keep-{new_id()}").mkdir()  # a keep cut short: staged inside its snapshot
    os.utime(dead, (1, 1))
    cleaned = recover(store.root)
    assert str(dead) in cleaned and not dead.exists()
    assert [c.id for c in list_kept(store)] == [cid]
