"""``hoist save``: a docker-archive that also is an OCI image layout (as docker 25+ writes).

The tar holds ``blobs/sha256/<hex>`` (configs, layers as stored, manifests),
``oci-layout``, ``index.json`` (one entry per tag with ``io.containerd.image.name``
= the full name and ``org.opencontainers.image.ref.name`` = the tag) and
``manifest.json`` (``Config``/``RepoTags``/``Layers`` pointing into ``blobs/``),
so ``docker load``, ``podman load`` and skopeo (``docker-archive:`` and
``oci-archive:``) all accept it. Entries are sorted-deterministic: mtime 0,
uid/gid 0. Every blob is verified as it is copied.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from hoist.errors import StoreError
from hoist.fs.atomic import fsync_dir
from hoist.image import mediatypes as mt
from hoist.image.descriptor import Descriptor
from hoist.image.manifest import Index
from hoist.image.wire import canonical_json
from hoist.models.digest import Digest
from hoist.models.reference import Reference
from hoist.store.blobs import drain
from hoist.store.layout import IMAGE_NAME, REF_NAME
from hoist.store.records import StoredImage
from hoist.store.resolve import resolve_image
from hoist.store.store import Store


class _Entry(msgspec.Struct, frozen=True):
    stored: StoredImage
    tags: tuple[Reference, ...]


def save_to_file(store: Store, refs: list[str], path: Path) -> None:
    """Write the archive to ``path`` atomically (a temp file next to it, then rename).

    Raises:
        ImageNotFound: a reference names no image.
        StoreError: a blob is missing or corrupt, or ``path`` cannot be written.
    """
    entries = collect(store, refs)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StoreError(f"saving to {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            write_archive(store, entries, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        fsync_dir(directory)
    except OSError as exc:
        raise StoreError(f"saving to {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def collect(store: Store, refs: list[str]) -> list[_Entry]:
    """The images ``refs`` name, each once, with the tags they were named by."""
    order: list[Digest] = []
    tags: dict[Digest, list[Reference]] = {}
    for text in refs:
        image_id, via_tag = resolve_image(store.db, text)
        if image_id not in tags:
            order.append(image_id)
            tags[image_id] = []
        if via_tag is not None and via_tag not in tags[image_id]:
            tags[image_id].append(via_tag)
    return [_Entry(store.get_image(i), tuple(tags[i])) for i in order]


def write_archive(store: Store, entries: list[_Entry], out: BinaryIO) -> None:
    """Stream the archive into ``out`` (seekable or not)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name in ("blobs", "blobs/sha256"):
            tar.addfile(_info(name, 0, tarfile.DIRTYPE))
        for digest, size in _blobs(entries):
            _add_blob(tar, store, digest, size)
        _add_bytes(tar, "index.json", _index(entries))
        _add_bytes(tar, "manifest.json", _docker_manifest(entries))
        _add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())


def _blobs(entries: list[_Entry]) -> Iterator[tuple[Digest, int]]:
    seen: set[Digest] = set()
    for entry in entries:
        manifest = entry.stored.manifest
        for desc in (manifest.config, *manifest.layers):
            if desc.digest not in seen:
                seen.add(desc.digest)
                yield desc.digest, desc.size
        if entry.stored.manifest_digest not in seen:
            seen.add(entry.stored.manifest_digest)
            yield entry.stored.manifest_digest, len(entry.stored.manifest_bytes)


def _index(entries: list[_Entry]) -> bytes:
    manifests = []
    for entry in entries:
        base = Descriptor(
            entry.stored.manifest.media_type,
            entry.stored.manifest_digest,
            len(entry.stored.manifest_bytes),
        )
        if not entry.tags:
            manifests.append(base)
        for ref in entry.tags:
            annotations = {IMAGE_NAME: str(ref), REF_NAME: ref.tag or ""}
            manifests.append(Descriptor(base.media_type, base.digest, base.size, annotations))
    return Index(tuple(manifests), mt.OCI_INDEX).to_json()


def _docker_manifest(entries: list[_Entry]) -> bytes:
    rows: list[dict[str, Any]] = []
    for entry in entries:
        manifest = entry.stored.manifest
        rows.append(
            {
                "Config": _blob_path(manifest.config.digest),
                "RepoTags": [ref.familiar for ref in entry.tags] or None,
                "Layers": [_blob_path(layer.digest) for layer in manifest.layers],
            }
        )
    return canonical_json(rows)


def _blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.hex}"


def _info(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mtime, info.uid, info.gid = size, kind, 0, 0, 0
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, len(data)), io.BytesIO(data))


def _add_blob(tar: tarfile.TarFile, store: Store, digest: Digest, size: int) -> None:
    actual = store.blobs.size(digest)
    if actual != size:
        raise StoreError(f"saving blob {digest}: size {actual} but the manifest says {size}")
    with store.blobs.open(digest) as reader:
        tar.addfile(_info(_blob_path(digest), actual), reader)
        drain(reader)  # reaching EOF runs the digest check
