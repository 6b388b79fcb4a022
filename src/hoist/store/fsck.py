"""``hoist fsck``: verify every blob and every record; ``repair`` removes what is broken.

Checks: each blob hashes to its name; no stray files under ``blobs/``; each
image's manifest and config parse and are present, the config digest is the
image ID, every layer blob is present; tags and parents point at images;
unpacked-layer records match their directories; ``index.json`` matches the
tags. Repair deletes corrupt blobs, images that lost content, dangling
records, and rewrites ``index.json``. Authoritative records are only removed
when what they describe is gone or corrupt.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from hoist.errors import HoistError
from hoist.fs.lock import file_lock
from hoist.image.manifest import Manifest
from hoist.models.digest import Digest
from hoist.store import layout
from hoist.store.blobs import drain, read_small
from hoist.store.remove import delete_record

if TYPE_CHECKING:
    from hoist.store.store import Store


def fsck(store: Store, *, repair: bool = False) -> list[str]:
    """Return one line per problem found (and fixed, with ``repair``)."""
    with file_lock(store.root / "locks" / "gc.lock", timeout=60.0):
        problems = _check_blobs(store, repair)
        problems += _check_images(store, repair)
        problems += _check_records(store, repair)
        problems += _check_layers(store, repair)
        problems += _check_index(store, repair)
    return problems


def _check_blobs(store: Store, repair: bool) -> list[str]:
    problems = []
    for digest in list(store.blobs.digests()):
        try:
            with store.blobs.open(digest) as reader:
                drain(reader)
        except HoistError as exc:
            problems.append(f"blob {digest}: {exc.message}")
            if repair:
                store.blobs.delete(digest)
    for path in store.blobs.stray_files():
        problems.append(f"stray file {path}: not named by a valid digest")
        if repair:
            _remove(path)
    return problems


def _check_images(store: Store, repair: bool) -> list[str]:
    problems = []
    for image_id, manifest_digest in store.db.query("SELECT id, manifest_digest FROM images"):
        cause = _image_problem(store, Digest.parse(image_id), Digest.parse(manifest_digest))
        if cause:
            problems.append(f"image {image_id}: {cause}")
            if repair:
                delete_record(store, Digest.parse(image_id))
    return problems


def _image_problem(store: Store, image_id: Digest, manifest_digest: Digest) -> str | None:
    try:
        manifest = Manifest.from_json(read_small(store.blobs, manifest_digest))
        if manifest.config.digest != image_id:
            return f"manifest names config {manifest.config.digest}"
        read_small(store.blobs, manifest.config.digest)
    except HoistError as exc:
        return exc.message
    missing = [str(d.digest) for d in manifest.layers if not store.blobs.has(d.digest)]
    return f"missing layer blob {missing[0]}" if missing else None


def _check_records(store: Store, repair: bool) -> list[str]:
    problems = []
    for name, image_id in store.db.query(
        "SELECT name, image_id FROM tags WHERE image_id NOT IN (SELECT id FROM images)"
    ):
        problems.append(f"tag {name}: points at missing image {image_id}")
    for image_id, parent in store.db.query(
        "SELECT id, parent FROM images WHERE parent IS NOT NULL"
        " AND parent NOT IN (SELECT id FROM images)"
    ):
        problems.append(f"image {image_id}: parent {parent} is missing")
    if problems and repair:
        with store.db.transaction() as tx:
            tx.execute("DELETE FROM tags WHERE image_id NOT IN (SELECT id FROM images)")
            tx.execute("UPDATE images SET parent=NULL WHERE parent NOT IN (SELECT id FROM images)")
    return problems


def _check_layers(store: Store, repair: bool) -> list[str]:
    problems = []
    for diff_id, directory, state in store.db.query("SELECT diff_id, dir, state FROM layers"):
        if state == "ready" and not Path(directory).is_dir():
            problems.append(f"unpacked layer {diff_id}: directory {directory} is missing")
        elif state == "incomplete" and _lock_free(store, Digest.parse(diff_id)):
            problems.append(f"unpacked layer {diff_id}: left incomplete by a dead process")
        else:
            continue
        if repair:
            _drop_layer(store, Digest.parse(diff_id), Path(directory))
    return problems


def _lock_free(store: Store, diff_id: Digest) -> bool:
    from hoist.errors import StoreLocked

    try:
        with file_lock(store.root / "locks" / f"layer-{diff_id.hex}.lock", timeout=0.0):
            return True
    except StoreLocked:
        return False


def _drop_layer(store: Store, diff_id: Digest, directory: Path) -> None:
    if directory.parent == store.root / "layers":
        _remove(directory)
    with store.db.transaction() as tx:
        tx.execute("DELETE FROM layers WHERE diff_id=?", (str(diff_id),))


def _check_index(store: Store, repair: bool) -> list[str]:
    problems = []
    try:
        index = layout.read_index(store.root)
        listed = {(d.annotations.get(layout.REF_NAME), d.digest) for d in index.manifests}
    except (HoistError, OSError) as exc:
        problems.append(f"{store.root}/index.json: {exc}")
        listed = set()
    rows = store.db.query(
        "SELECT t.name, i.manifest_digest FROM tags t JOIN images i ON i.id=t.image_id"
    )
    known = {(n, Digest.parse(d)) for n, d in rows}
    lost = sorted((n, d) for n, d in listed - known if n and n not in {k[0] for k in known})
    for name, _ in lost:
        problems.append(f"tag {name}: in index.json but not in the database")
    if not problems and listed != known:
        problems.append(f"{store.root}/index.json: does not match the tags")
    if not (store.root / "oci-layout").is_file():
        problems.append(f"{store.root}/oci-layout: missing")
    if problems and repair:
        for name, digest in lost:
            _recover_tag(store, name, digest)
        layout.ensure_layout(store.root)
        store.sync_index()
    return problems


def _recover_tag(store: Store, name: str, manifest_digest: Digest) -> None:
    """Re-record an image the database lost, from the layout (index.json is its backup)."""
    from hoist.image.image import Image
    from hoist.models.reference import Reference

    try:
        data = read_small(store.blobs, manifest_digest)
        manifest = Manifest.from_json(data)
        config = read_small(store.blobs, manifest.config.digest)
        image = Image.from_config_bytes(config, manifest.layers)
        store.tag(store.write_image(image, manifest=data), Reference.parse(name))
    except HoistError:
        return  # its content is gone too: the entry is dropped with the rewrite


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
