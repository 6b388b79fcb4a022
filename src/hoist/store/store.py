"""The local image store: an OCI image layout plus a SQLite metadata database.

Layout of ``root`` (mode 0700)::

    oci-layout, index.json      OCI image layout (index.json lists tagged images)
    blobs/sha256/<hex>          content-addressed blobs
    ingest/                     temp files of blob writers (same filesystem)
    hoist.db                    metadata (SQLite, WAL)
    layers/<diff_id hex>/       unpacked layers (see hoist.store.layers)
    locks/                      flock files

Concurrency: blobs are written atomically by any number of processes; the
database serialises writers; ``index.json`` is rewritten under ``locks/index.lock``;
garbage collection takes ``locks/gc.lock`` exclusively, while writers that
create blobs before recording them hold it shared (:meth:`Store.lease`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from hoist.errors import BlobNotFound, ImageNotFound, InvalidReference, StoreError
from hoist.fs.lock import file_lock
from hoist.image import mediatypes as mt
from hoist.image.descriptor import Descriptor
from hoist.image.image import Image
from hoist.image.manifest import Manifest
from hoist.models.digest import Digest, sha256_of
from hoist.models.reference import Reference
from hoist.store import fsck, gc, layers, layout, remove
from hoist.store.blobs import DirBlobStore, read_small
from hoist.store.db import Database
from hoist.store.location import default_root
from hoist.store.records import ImageSummary, RemoveEvent, StoredImage
from hoist.store.resolve import resolve_image
from hoist.store.tables import Tables

LEASE_TIMEOUT = 600.0

__all__ = ["Store", "default_root"]


class Store:
    """Images, tags, blobs, unpacked layers and the build-side tables of one root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = DirBlobStore(root)
        self.db = Database(root / "hoist.db")
        self.tables = Tables(self.db)

    @classmethod
    def open(cls, root: Path | str | None = None) -> Store:
        """Open (creating if needed) the store at ``root`` or :func:`default_root`.

        Raises:
            StoreError: the directory cannot be created or the database opened.
        """
        # absolute: the paths handed to crun/runc and mount(2) must not depend on the cwd
        path = (Path(root) if root is not None else default_root()).absolute()
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            for sub in ("blobs", "blobs/sha256", "ingest", "layers", "locks"):
                (path / sub).mkdir(mode=0o700, exist_ok=True)
            layout.ensure_layout(path)
        except OSError as exc:
            raise StoreError(f"opening store {path}: {exc.strerror or exc}") from exc
        return cls(path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def lease(self) -> Iterator[None]:
        """Keep garbage collection away while blobs are written but not yet recorded."""
        with file_lock(self.root / "locks" / "gc.lock", shared=True, timeout=LEASE_TIMEOUT):
            yield

    # -- images ---------------------------------------------------------------

    def write_image(
        self, image: Image, *, parent: Digest | str | None = None, manifest: bytes | None = None
    ) -> Digest:
        """Record ``image`` (its layer blobs must be in the store); return its ID.

        Writes the config and the manifest (``manifest`` bytes as given, e.g.
        from an OCI layout, or a canonical OCI manifest) as blobs. Idempotent.
        Raises:
            BlobNotFound: a layer blob is missing.
            StoreError: a layer descriptor's size is wrong, or ``manifest`` does
                not describe ``image``.
        """
        for layer in image.layers:
            try:
                size = self.blobs.size(layer.digest)
            except BlobNotFound as exc:
                raise BlobNotFound(
                    f"recording image {image.id}: layer {layer.digest} is missing") from exc
            if size != layer.size:
                raise StoreError(
                    f"recording image {image.id}: layer {layer.digest} has size "
                    f"{size}, the descriptor says {layer.size}"
                )
        self.blobs.put_bytes(image.config_bytes(), expected=image.id)
        data = manifest if manifest is not None else image.manifest().to_json()
        parsed = _check_manifest(data, image)
        manifest_digest, _ = self.blobs.put_bytes(data)
        parent_id = Digest.parse(str(parent)) if parent is not None else None
        self._record(image, manifest_digest, parsed.media_type, parent_id)
        return image.id

    def _record(
        self, image: Image, manifest_digest: Digest, media_type: str, parent: Digest | None
    ) -> None:
        size = self._image_size(image)
        pairs = list(zip(image.diff_ids, image.layers, strict=True))
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO images(id, manifest_digest, manifest_media_type, parent, created,"
                " size, added) VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                " manifest_digest=excluded.manifest_digest,"
                " manifest_media_type=excluded.manifest_media_type,"
                " parent=COALESCE(excluded.parent, images.parent), size=excluded.size",
                (str(image.id), str(manifest_digest), media_type,
                 str(parent) if parent else None, image.config.created, size, time.time()),
            )  # fmt: skip
            tx.execute("DELETE FROM image_layers WHERE image_id=?", (str(image.id),))
            tx.executemany(
                "INSERT INTO image_layers(image_id, position, diff_id, blob) VALUES (?,?,?,?)",
                [(str(image.id), i, str(d), str(layer.digest))
                 for i, (d, layer) in enumerate(pairs)],
            )  # fmt: skip
            # an uncompressed layer blob tells its diff's size (kept for compressed twins)
            tx.executemany(
                "INSERT OR REPLACE INTO diffs(diff_id, size) VALUES (?,?)",
                [(str(d), layer.size) for d, layer in pairs if layer.digest == d],
            )

    def _image_size(self, image: Image) -> int:
        total = 0
        for diff_id, layer in zip(image.diff_ids, image.layers, strict=True):
            plain = layer.digest == diff_id
            total += layer.size if plain else self.tables.diff_size_get(diff_id) or layer.size
        return total

    def resolve(self, text: str) -> Digest:
        """The image ID ``text`` names. Raises: ImageNotFound."""
        return resolve_image(self.db, text)[0]

    def get_image(self, text: str | Digest) -> StoredImage:
        """Read an image by tag, full ID, ID prefix or ``name@digest``.

        Raises:
            ImageNotFound: no such image.
            BlobNotFound, DigestMismatch, InvalidImageData: the store is damaged.
        """
        image_id = self.resolve(str(text))
        row = self.db.one(
            "SELECT manifest_digest, parent, created, size FROM images WHERE id=?", (str(image_id),)
        )
        if row is None:
            raise ImageNotFound(f"no such image: {text}")
        manifest_digest = Digest.parse(row[0])
        manifest_bytes = read_small(self.blobs, manifest_digest)
        manifest = Manifest.from_json(manifest_bytes, str(manifest_digest))
        config = read_small(self.blobs, manifest.config.digest)
        image = Image.from_config_bytes(config, manifest.layers)
        parent = Digest.parse(row[1]) if row[1] else None
        tags = self.tags_of(image_id)
        return StoredImage(
            image_id, image, manifest_digest, manifest, manifest_bytes, parent, row[2], row[3], tags
        )

    def tags_of(self, image_id: Digest) -> tuple[Reference, ...]:
        rows = self.db.query(
            "SELECT name FROM tags WHERE image_id=? ORDER BY name", (str(image_id),)
        )
        return tuple(Reference.parse(r[0]) for r in rows)

    def children(self, image_id: Digest) -> list[Digest]:
        rows = self.db.query("SELECT id FROM images WHERE parent=? ORDER BY id", (str(image_id),))
        return [Digest.parse(r[0]) for r in rows]

    def tag(self, image_id: Digest | str, ref: Reference) -> None:
        """Point ``ref`` (a tag, no digest) at an image.

        Raises:
            InvalidReference: ``ref`` has a digest or no tag.
            ImageNotFound: no image with that ID.
        """
        if ref.digest is not None or ref.tag is None:
            raise InvalidReference(f"tagging: {ref} must be name:tag without a digest")
        ident = str(image_id)
        with self.db.transaction() as tx:
            if tx.execute("SELECT 1 FROM images WHERE id=?", (ident,)).fetchone() is None:
                raise ImageNotFound(f"tagging {ref.familiar}: no such image: {ident}")
            tx.execute(
                "INSERT OR REPLACE INTO tags(name, image_id) VALUES (?,?)", (str(ref), ident)
            )
        self.sync_index()

    def untag(self, ref: Reference) -> bool:
        with self.db.transaction() as tx:
            count = tx.execute("DELETE FROM tags WHERE name=?", (str(ref),)).rowcount
        self.sync_index()
        return count > 0

    def list_images(self, include_intermediate: bool = False) -> list[ImageSummary]:
        """Images newest first; untagged images with children only when asked (``-a``)."""
        rows = self.db.query(
            "SELECT i.id, i.manifest_digest, i.parent, i.created, i.size,"
            " EXISTS(SELECT 1 FROM images c WHERE c.parent=i.id) FROM images i"
            " ORDER BY i.created DESC, i.added DESC"
        )
        tags: dict[str, list[Reference]] = {}
        for name, image_id in self.db.query("SELECT name, image_id FROM tags ORDER BY name"):
            tags.setdefault(image_id, []).append(Reference.parse(name))
        out = []
        for ident, manifest, parent, created, size, has_children in rows:
            refs = tuple(tags.get(ident, ()))
            if refs or include_intermediate or not has_children:
                out.append(ImageSummary(Digest.parse(ident), Digest.parse(manifest),
                                        Digest.parse(parent) if parent else None, created, size,
                                        refs, bool(has_children)))  # fmt: skip
        return out

    def sync_index(self) -> None:
        """Rewrite ``index.json`` from the tags table (under the index lock)."""
        with file_lock(self.root / "locks" / "index.lock"):
            rows = self.db.query(
                "SELECT t.name, i.manifest_digest, i.manifest_media_type FROM tags t"
                " JOIN images i ON i.id = t.image_id"
            )
            entries = []
            for name, digest, media_type in rows:
                parsed = Digest.parse(digest)
                with contextlib.suppress(BlobNotFound):
                    entries.append((name, parsed, self.blobs.size(parsed), media_type))
            try:
                layout.write_index(self.root, entries)
            except OSError as exc:
                raise StoreError(f"writing {self.root}/index.json: {exc.strerror}") from exc

    # -- removal, unpacked layers, tables: see sibling modules ----------------

    def remove_image(
        self, text: str, *, force: bool = False, prune: bool = True
    ) -> list[RemoveEvent]:
        """``hoist rmi``; see :func:`hoist.store.remove.remove_image`."""
        return remove.remove_image(self, text, force=force, prune=prune)

    def unpacked_layer(self, diff_id: Digest, unpack: Callable[[Path], None]) -> Path:
        """See :func:`hoist.store.layers.unpacked_layer`."""
        return layers.unpacked_layer(self, diff_id, unpack)

    def adopt_layer_dir(self, diff_id: Digest, src_dir: Path) -> Path:
        """See :func:`hoist.store.layers.adopt_layer_dir`."""
        return layers.adopt_layer_dir(self, diff_id, src_dir)

    def layer_dir(self, diff_id: Digest) -> Path | None:
        """The ready unpacked dir of ``diff_id``, or None."""
        return layers.ready_layer_dir(self, diff_id)

    def layer_in_codec(self, layer: Descriptor, diff_id: Digest, codec: str) -> Descriptor:
        """See :func:`hoist.store.compress.layer_in_codec`."""
        from hoist.store import compress  # isal and zstandard: only export and push need them

        return compress.layer_in_codec(self, layer, diff_id, codec)

    def prune(self) -> tuple[list[RemoveEvent], gc.Collected]:
        return gc.prune(self)

    def fsck(self, *, repair: bool = False) -> list[str]:
        return fsck.fsck(self, repair=repair)

    def cache_get(self, key: str) -> tuple[Digest, str] | None:
        return self.tables.cache_get(key)

    def cache_put(self, key: str, image_id: Digest | str, components_json: str) -> None:
        self.tables.cache_put(key, image_id, components_json)

    def checksum_get(self, path: str, stat_key: tuple[int, ...]) -> str | None:
        return self.tables.checksum_get(path, stat_key)

    def checksum_put(self, path: str, stat_key: tuple[int, ...], checksum: str) -> None:
        self.tables.checksum_put(path, stat_key, checksum)

    def checksums_under(self, prefix: str) -> dict[str, tuple[tuple[int, ...], str]]:
        return self.tables.checksums_under(prefix)

    def checksum_put_many(self, rows: Iterable[tuple[str, tuple[int, ...], str]]) -> None:
        self.tables.checksum_put_many(rows)


def _check_manifest(data: bytes, image: Image) -> Manifest:
    manifest = Manifest.from_json(data, f"manifest {sha256_of(data)}")
    if manifest.config.digest != image.id:
        raise StoreError(
            f"recording image {image.id}: manifest names config {manifest.config.digest}"
        )
    if tuple(d.digest for d in manifest.layers) != tuple(d.digest for d in image.layers):
        raise StoreError(f"recording image {image.id}: manifest layers differ from the image's")
    if manifest.media_type not in mt.MANIFESTS:
        raise StoreError(f"recording image {image.id}: not an image manifest")
    return manifest
