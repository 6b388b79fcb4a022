"""Images, tags, rmi/prune/fsck, unpacked layers and the metadata tables of a Store."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from hoist.errors import BlobNotFound, DigestMismatch, ImageInUse, ImageNotFound, InvalidReference
from hoist.image import Image
from hoist.models.digest import Digest
from hoist.models.reference import Reference
from hoist.store import Store
from hoist.testing.images import with_layer, with_note


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "root") as opened:
        yield opened  # type: ignore[misc]


def chain(store: Store, depth: int, tag: str | None = None) -> list[Digest]:
    """Images base → … → top, each the parent of the next (like build steps)."""
    ids: list[Digest] = []
    image = Image.scratch()
    for step in range(depth):
        image = with_layer(store, image, {f"f{step}": f"{tag}{step}".encode()}, f"RUN step {step}")
        ids.append(store.write_image(image, parent=ids[-1] if ids else None))
    if tag:
        store.tag(ids[-1], Reference.parse(tag))
    return ids


def ref(text: str) -> Reference:
    return Reference.parse(text)


def test_write_get_and_resolve(store: Store) -> None:
    image = with_note(with_layer(store, Image.scratch(), {"a": b"1"}, "ADD a"), "CMD x")
    image_id = store.write_image(image)
    store.tag(image_id, ref("busybox:local"))
    for text in ("busybox:local", "docker.io/library/busybox:local", str(image_id),
                 image_id.hex, image_id.hex[:12], f"sha256:{image_id.hex[:5]}"):  # fmt: skip
        stored = store.get_image(text)
        assert stored.id == image_id and stored.image.config_bytes() == image.config_bytes()
    assert stored.tags == (ref("busybox:local"),)
    assert stored.size == image.layers[0].size
    by_digest = store.get_image(f"busybox@{stored.manifest_digest}")
    assert by_digest.id == image_id
    with pytest.raises(ImageNotFound, match="busybox:other"):
        store.get_image("busybox:other")


def test_write_image_is_idempotent_and_needs_its_layers(store: Store, tmp_path: Path) -> None:
    image = with_layer(store, Image.scratch(), {"a": b"1"}, "ADD a")
    assert store.write_image(image) == store.write_image(image)
    assert len(store.list_images()) == 1
    with Store.open(tmp_path / "other") as other, pytest.raises(BlobNotFound, match="layer"):
        other.write_image(image)


def test_ambiguous_prefix_is_an_error(store: Store) -> None:
    ids = [store.write_image(with_layer(store, Image.scratch(), {"a": str(i).encode()}, "x"))
           for i in range(40)]  # fmt: skip
    first = {i.hex[0] for i in ids}
    shared = next(c for c in first if sum(i.hex[0] == c for i in ids) > 1)
    with pytest.raises(ImageNotFound, match="ambiguous"):
        store.get_image(shared)


def test_tags_are_mirrored_in_index_json(store: Store) -> None:
    (top,) = chain(store, 1, "app:v1")
    store.tag(top, ref("localhost:5000/team/app:v2"))
    index = json.loads((store.root / "index.json").read_text())
    names = sorted(
        m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]
    )
    assert names == ["docker.io/library/app:v1", "localhost:5000/team/app:v2"]
    assert json.loads((store.root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    store.untag(ref("app:v1"))
    assert len(json.loads((store.root / "index.json").read_text())["manifests"]) == 1
    with pytest.raises(InvalidReference):
        store.tag(top, Reference.parse(f"app@{top}"))


def test_list_hides_intermediate_images_unless_all(store: Store) -> None:
    ids = chain(store, 3, "app:latest")
    shown = store.list_images()
    assert [s.id for s in shown] == [ids[-1]]
    assert {s.id for s in store.list_images(include_intermediate=True)} == set(ids)


def test_rmi_by_tag_removes_the_untagged_parent_chain(store: Store) -> None:
    ids = chain(store, 3, "app:latest")
    events = [str(e) for e in store.remove_image("app")]
    assert events == ["Untagged: app:latest"] + [f"Deleted: {i}" for i in reversed(ids)]
    assert store.list_images(include_intermediate=True) == []
    assert list(store.blobs.digests()) == []  # collected right away: no lease held


def test_rmi_of_one_of_two_tags_only_untags(store: Store) -> None:
    (top,) = chain(store, 1, "app:latest")
    store.tag(top, ref("app:v1"))
    assert [str(e) for e in store.remove_image("app:v1")] == ["Untagged: app:v1"]
    assert store.get_image("app").id == top


def test_rmi_refuses_what_a_child_or_another_repo_needs(store: Store) -> None:
    ids = chain(store, 2, "app:latest")
    with pytest.raises(ImageInUse, match="dependent child images"):
        store.remove_image(str(ids[0]))
    store.tag(ids[1], ref("other:1"))
    with pytest.raises(ImageInUse, match="multiple repositories"):
        store.remove_image(ids[1].hex[:12])
    events = [str(e) for e in store.remove_image(ids[1].hex[:12], force=True)]
    assert events[:2] == ["Untagged: app:latest", "Untagged: other:1"]
    assert store.list_images(include_intermediate=True) == []


def test_rmi_force_on_a_parent_detaches_children(store: Store) -> None:
    ids = chain(store, 2, "app:latest")
    store.remove_image(str(ids[0]), force=True)
    assert store.get_image("app").parent is None
    assert store.fsck() == []


def test_prune_removes_dangling_chains_and_unreferenced_blobs(store: Store) -> None:
    kept = chain(store, 2, "keep:1")
    doomed = chain(store, 3, None)
    stray, _ = store.blobs.put_bytes(b"nobody references me")
    with store.lease():
        pass
    events, collected = store.prune()
    assert {e.what for e in events} == {str(i) for i in doomed}
    assert stray in collected.blobs and not store.blobs.has(stray)
    assert {s.id for s in store.list_images(include_intermediate=True)} == set(kept)
    assert store.fsck() == []


def test_gc_waits_for_leases(store: Store) -> None:
    from hoist.errors import StoreLocked
    from hoist.store.gc import collect_garbage

    digest, _ = store.blobs.put_bytes(b"in flight")
    with store.lease():
        with pytest.raises(StoreLocked, match=r"gc\.lock"):
            collect_garbage(store, wait=0.1)
        assert store.blobs.has(digest)
    collect_garbage(store, wait=1)
    assert not store.blobs.has(digest)


def test_fsck_finds_and_repairs_corruption(store: Store) -> None:
    (good,) = chain(store, 1, "good:1")
    (bad,) = chain(store, 1, "bad:1")
    layer = store.get_image("bad:1").image.layers[0].digest
    path = store.blobs.path(layer)
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    (store.root / "blobs" / "sha256" / "not-a-digest").write_text("x")
    with pytest.raises(DigestMismatch):
        store.layer_in_codec(store.get_image("bad:1").image.layers[0], layer, "gzip")
    problems = store.fsck()
    assert any(str(layer) in p and "digest mismatch" in p for p in problems)
    assert any("not-a-digest" in p for p in problems)
    store.fsck(repair=True)
    assert store.fsck() == []
    assert store.get_image("good:1").id == good
    with pytest.raises(ImageNotFound):
        store.get_image(str(bad))


def test_fsck_reports_a_missing_blob_and_a_stale_index(store: Store) -> None:
    chain(store, 1, "app:1")
    store.blobs.delete(store.get_image("app:1").image.layers[0].digest)
    (store.root / "index.json").write_text('{"schemaVersion": 2, "manifests": []}')
    problems = store.fsck()
    assert any("missing layer blob" in p for p in problems)
    assert any("index.json" in p for p in problems)
    store.fsck(repair=True)
    assert store.fsck() == [] and store.list_images() == []


def test_database_is_wal_with_a_schema_version(store: Store) -> None:
    conn = sqlite3.connect(store.root / "hoist.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"images", "tags", "layers", "build_cache", "context_checksums",
            "compressed_blobs"} <= tables  # fmt: skip


def test_unpacked_layer_is_made_once_and_shared(store: Store) -> None:
    image = with_layer(store, Image.scratch(), {"a": b"1"}, "ADD a")
    diff_id = image.diff_ids[0]
    calls: list[Path] = []

    def unpack(target: Path) -> None:
        calls.append(target)
        (target / "a").write_text("1")

    threads = [threading.Thread(target=store.unpacked_layer, args=(diff_id, unpack))
               for _ in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.unpacked_layer(diff_id, unpack)
    assert len(calls) == 1 and final == store.root / "layers" / diff_id.hex
    assert (final / "a").read_text() == "1"
    store.tag(store.write_image(image), Reference.parse("kept:1"))
    row = store.db.one("SELECT state FROM layers WHERE diff_id=?", (str(diff_id),))
    assert row == ("ready",)
    store.prune()  # a tagged image lists it: it stays
    assert store.layer_dir(diff_id) == final


def test_failed_or_crashed_unpack_is_never_returned(store: Store) -> None:
    diff_id = Digest("sha256", "a" * 64)

    def broken(target: Path) -> None:
        (target / "half").write_text("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.unpacked_layer(diff_id, broken)
    assert store.layer_dir(diff_id) is None
    assert [p.name for p in (store.root / "layers").iterdir()] == []
    # a crash after recording intent: an incomplete row and a half dir
    half = store.root / "layers" / f".tmp-{diff_id.hex}-999999"
    half.mkdir()
    with store.db.transaction() as tx:
        tx.execute(
            "INSERT INTO layers(diff_id, dir, state, created) VALUES (?,?,'incomplete',0)",
            (str(diff_id), str(half)),
        )
    assert any("incomplete" in p for p in store.fsck())
    made = store.unpacked_layer(diff_id, lambda t: (t / "ok").write_text("y"))
    assert sorted(p.name for p in made.iterdir()) == ["ok"] and not half.exists()


def test_adopt_layer_dir_moves_and_dedupes(store: Store, tmp_path: Path) -> None:
    diff_id = Digest("sha256", "b" * 64)
    upper = store.root / "snap-upper"
    upper.mkdir()
    (upper / "f").write_text("1")
    final = store.adopt_layer_dir(diff_id, upper)
    assert (final / "f").read_text() == "1" and not upper.exists()
    again = store.root / "snap-upper-2"
    again.mkdir()
    assert store.adopt_layer_dir(diff_id, again) == final and not again.exists()
    store.prune()  # no image lists it
    assert store.layer_dir(diff_id) is None and not final.exists()


def test_an_unpacked_dir_from_another_boot_is_made_again(store: Store) -> None:
    """Unsynced dirs are trusted only in their own boot: after a crash they come from the blob."""
    diff_id = Digest("sha256", "c" * 64)
    first = store.unpacked_layer(diff_id, lambda t: (t / "a").write_text("1"))
    (first / "torn").write_text("what a crash may leave")
    with store.db.transaction() as tx:
        tx.execute("UPDATE layers SET boot='an-earlier-boot' WHERE diff_id=?", (str(diff_id),))
    assert store.layer_dir(diff_id) is None
    again = store.unpacked_layer(diff_id, lambda t: (t / "a").write_text("1"))
    assert again == first and sorted(p.name for p in again.iterdir()) == ["a"]
    assert store.layer_dir(diff_id) == again


def test_an_adopted_dir_replaces_one_from_another_boot(store: Store) -> None:
    diff_id = Digest("sha256", "d" * 64)
    upper = store.root / "old-upper"
    upper.mkdir()
    (upper / "stale").write_text("x")
    store.adopt_layer_dir(diff_id, upper)
    with store.db.transaction() as tx:
        tx.execute("UPDATE layers SET boot='an-earlier-boot' WHERE diff_id=?", (str(diff_id),))
    fresh = store.root / "new-upper"
    fresh.mkdir()
    (fresh / "f").write_text("1")
    final = store.adopt_layer_dir(diff_id, fresh)
    assert sorted(p.name for p in final.iterdir()) == ["f"] and store.layer_dir(diff_id) == final


def test_a_version_2_database_gains_the_boot_column(tmp_path: Path) -> None:
    root = tmp_path / "old"
    with Store.open(root):
        pass
    conn = sqlite3.connect(root / "hoist.db")
    conn.execute("ALTER TABLE layers DROP COLUMN boot")
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    with Store.open(root) as store:
        columns = {row[1] for row in store.db.query("PRAGMA table_info(layers)")}
        assert "boot" in columns
        assert store.db.one("PRAGMA user_version") == (3,)


def test_cache_and_checksum_tables(store: Store) -> None:
    (top,) = chain(store, 1, "app:1")
    store.cache_put("key1", top, '{"parent": null}')
    assert store.cache_get("key1") == (top, '{"parent": null}')
    assert store.cache_get("nope") is None
    stat_key = (1, 2, 3, 4, 5)
    store.checksum_put("/ctx/a", stat_key, "abc")
    assert store.checksum_get("/ctx/a", stat_key) == "abc"
    assert store.checksum_get("/ctx/a", (1, 2, 3, 4, 6)) is None
    store.remove_image("app:1")
    assert store.cache_get("key1") is None


def test_default_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hoist.store import default_root

    monkeypatch.setenv("HOIST_ROOT", str(tmp_path / "x"))
    assert default_root() == tmp_path / "x"
    monkeypatch.delenv("HOIST_ROOT")
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_root() == tmp_path / "data" / "hoist"
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert default_root() == Path("/var/lib/hoist")


def test_fsck_repair_recovers_tags_a_lost_database_forgot(tmp_path: Path) -> None:
    root = tmp_path / "root"
    with Store.open(root) as store:
        (top,) = chain(store, 1, "app:1")
        config = store.get_image("app:1").image.config_bytes()
    for suffix in ("", "-wal", "-shm"):
        (root / f"hoist.db{suffix}").unlink(missing_ok=True)
    with Store.open(root) as store:
        assert store.list_images() == []
        assert any("app:1" in p and "not in the database" in p for p in store.fsck())
        store.fsck(repair=True)
        assert store.fsck() == []
        recovered = store.get_image("app:1")
        assert recovered.id == top and recovered.image.config_bytes() == config


def test_write_image_checks_layer_sizes(store: Store) -> None:
    from msgspec.structs import replace

    from hoist.errors import StoreError

    image = with_layer(store, Image.scratch(), {"a": b"1"}, "ADD a")
    lying = replace(image, layers=(replace(image.layers[0], size=1),))
    with pytest.raises(StoreError, match="size"):
        store.write_image(lying)
    assert store.list_images() == []
