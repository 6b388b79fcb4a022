"""``hoist load``: docker-archive, OCI archive or OCI layout directory into the store.

Layers are kept as they came (plain, gzip or zstd), each checked against the
config's diff_ids; config and manifest digests are checked; names are cleaned
and blobs named by digests parsed strictly. A docker-archive that also carries
an OCI layout (docker 25+) is read through its ``manifest.json``, which names
the tags. Nothing is written outside the store.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec

from hoist.errors import ArchiveError, BlobNotFound, DigestMismatch, InvalidReference
from hoist.export.layers import import_layer, verify_diff_id
from hoist.export.sources import Source, open_source
from hoist.image import mediatypes as mt
from hoist.image.config import ConfigFile
from hoist.image.descriptor import Descriptor
from hoist.image.image import Image
from hoist.image.manifest import Index, Manifest
from hoist.image.wire import InvalidImageData
from hoist.models.digest import Digest, sha256_of
from hoist.models.platform import Platform
from hoist.models.reference import Reference
from hoist.store.layout import IMAGE_NAME, REF_NAME
from hoist.store.store import Store

_BLOB_PATH = re.compile(r"blobs/(sha256)/([0-9a-f]{64})")
_LEGACY_CONFIG = re.compile(r"([0-9a-f]{64})\.json")
_MAX_NESTING = 4


class Loaded(msgspec.Struct, frozen=True):
    image_id: Digest
    tags: tuple[Reference, ...] = ()

    def lines(self) -> list[str]:
        """What docker prints for it."""
        if not self.tags:
            return [f"Loaded image ID: {self.image_id}"]
        return [f"Loaded image: {ref.familiar}" for ref in self.tags]


def load(store: Store, path: Path, platform: Platform | None = None) -> list[Loaded]:
    """Load every image of the archive or layout at ``path`` and tag it.

    Raises:
        ArchiveError: unreadable, truncated, corrupt or hostile input, a
            missing blob, content that does not match its digest. The message
            names ``path`` and the problem.
    """
    try:
        with store.lease(), open_source(path, store.root / "ingest") as source:
            loaded = _load_source(store, source, platform or Platform.host())
    except (DigestMismatch, InvalidImageData, BlobNotFound, InvalidReference) as exc:
        raise ArchiveError(f"loading {path}: {exc.message}") from exc
    for item in loaded:
        for ref in item.tags:
            store.tag(item.image_id, ref)
    return loaded


def _load_source(store: Store, source: Source, platform: Platform) -> list[Loaded]:
    if source.exists("manifest.json"):
        return _load_docker(store, source)
    if source.exists("index.json"):
        return _load_oci(store, source, platform)
    raise ArchiveError(
        f"loading {source.name}: no manifest.json or index.json (not a docker or OCI archive)"
    )


# -- docker-archive ----------------------------------------------------------


def _load_docker(store: Store, source: Source) -> list[Loaded]:
    try:
        entries = json.loads(source.read_small("manifest.json"))
    except ValueError as exc:
        raise ArchiveError(f"loading {source.name}: manifest.json is not valid JSON") from exc
    if not isinstance(entries, list) or not entries:
        raise ArchiveError(f"loading {source.name}: manifest.json must be a non-empty list")
    return [_load_docker_entry(store, source, entry) for entry in entries]


def _load_docker_entry(store: Store, source: Source, entry: Any) -> Loaded:
    what = f"loading {source.name}"
    if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
        raise ArchiveError(f"{what}: manifest.json entry without a Config path")
    layers, repo_tags = entry.get("Layers") or [], entry.get("RepoTags") or []
    if not _all_str(layers) or not _all_str(repo_tags):
        raise ArchiveError(f"{what}: manifest.json Layers and RepoTags must be lists of strings")
    config_bytes = source.read_small(entry["Config"])
    _check_named_digest(entry["Config"], config_bytes, what)
    config = ConfigFile.from_json(config_bytes, f"{source.name}: {entry['Config']}")
    if len(layers) != len(config.rootfs.diff_ids):
        raise ArchiveError(
            f"{what}: {len(layers)} layers but the config has "
            f"{len(config.rootfs.diff_ids)} diff_ids"
        )
    descs = tuple(
        _docker_layer(store, source, layer_path, diff_id, what)
        for layer_path, diff_id in zip(layers, config.rootfs.diff_ids, strict=True)
    )
    image_id = store.write_image(Image(config, descs, config_bytes))
    return Loaded(image_id, tuple(_parse_tag(t, what) for t in repo_tags))


def _docker_layer(
    store: Store, source: Source, path: str, diff_id: Digest, what: str
) -> Descriptor:
    match = _BLOB_PATH.fullmatch(path)
    expected = Digest(match[1], match[2]) if match else None
    stream, size = source.open(path)
    with stream:
        return import_layer(store, stream, diff_id, f"{what}: {path}", expected=expected, size=size)


def _check_named_digest(path: str, data: bytes, what: str) -> None:
    match = _BLOB_PATH.fullmatch(path) or _LEGACY_CONFIG.fullmatch(path.rsplit("/", 1)[-1])
    hexpart = match[match.lastindex or 0] if match else None
    if hexpart and sha256_of(data).hex != hexpart:
        raise ArchiveError(f"{what}: {path}: content does not match its digest")


def _parse_tag(text: str, what: str) -> Reference:
    try:
        ref = Reference.parse(text)
    except InvalidReference as exc:
        raise ArchiveError(f"{what}: bad RepoTags entry: {exc.message}") from exc
    if ref.digest is not None:
        raise ArchiveError(f"{what}: bad RepoTags entry {text!r}: has a digest")
    return ref


def _all_str(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(i, str) for i in items)


# -- OCI layout --------------------------------------------------------------


def _load_oci(store: Store, source: Source, platform: Platform) -> list[Loaded]:
    index = Index.from_json(source.read_small("index.json"), f"{source.name}: index.json")
    loaded = []
    for desc in index.manifests:
        manifest_desc = _select(source, desc, platform, 0)
        if manifest_desc is None:
            continue
        image_id = _load_manifest(store, source, manifest_desc)
        loaded.append(Loaded(image_id, _oci_tags(desc)))
    if not loaded:
        raise ArchiveError(f"loading {source.name}: no image for platform {platform}")
    return loaded


def _select(source: Source, desc: Descriptor, platform: Platform, depth: int) -> Descriptor | None:
    if desc.media_type in mt.MANIFESTS:
        return desc
    if desc.media_type not in mt.INDEXES or depth >= _MAX_NESTING:
        return None
    nested = Index.from_json(_read_blob(source, desc), f"{source.name}: index {desc.digest}")
    chosen = nested.select(platform)
    return _select(source, chosen, platform, depth + 1) if chosen else None


def _read_blob(source: Source, desc: Descriptor) -> bytes:
    path = f"blobs/{desc.digest.algorithm}/{desc.digest.hex}"
    if not source.exists(path):
        raise ArchiveError(f"loading {source.name}: blob {desc.digest} is missing")
    data = source.read_small(path)
    if len(data) != desc.size or sha256_of(data) != desc.digest:
        raise ArchiveError(f"loading {source.name}: blob {desc.digest} does not match its digest")
    return data


def _load_manifest(store: Store, source: Source, desc: Descriptor) -> Digest:
    data = _read_blob(source, desc)
    manifest = Manifest.from_json(data, f"{source.name}: manifest {desc.digest}")
    config_bytes = _read_blob(source, manifest.config)
    image = Image.from_config_bytes(config_bytes, manifest.layers)
    for layer, diff_id in zip(manifest.layers, image.diff_ids, strict=True):
        _oci_layer(store, source, layer, diff_id)
    return store.write_image(image, manifest=data)


def _oci_layer(store: Store, source: Source, layer: Descriptor, diff_id: Digest) -> None:
    what = f"loading {source.name}: layer {layer.digest}"
    if not mt.is_layer(layer.media_type):
        raise ArchiveError(f"{what}: unsupported media type {layer.media_type}")
    if store.blobs.has(layer.digest) and store.blobs.size(layer.digest) == layer.size:
        got = import_layer_known(store, layer, diff_id, what)
    else:
        path = f"blobs/{layer.digest.algorithm}/{layer.digest.hex}"
        if not source.exists(path):
            raise ArchiveError(f"loading {source.name}: blob {layer.digest} is missing")
        stream, _ = source.open(path)
        with stream:
            got = import_layer(store, stream, diff_id, what, expected=layer.digest, size=layer.size)
    codec = mt.layer_codec(layer.media_type)
    if mt.layer_codec(got.media_type) != codec:
        raise ArchiveError(f"{what}: content is {mt.layer_codec(got.media_type)}, not {codec}")


def import_layer_known(store: Store, layer: Descriptor, diff_id: Digest, what: str) -> Descriptor:
    """A layer blob already in the store: only the diff_id check remains."""
    codec = verify_diff_id(store, layer.digest, layer.size, diff_id, what)
    return Descriptor(mt.oci_layer_type(codec), layer.digest, layer.size)


def _oci_tags(desc: Descriptor) -> tuple[Reference, ...]:
    name = desc.annotations.get(IMAGE_NAME) or desc.annotations.get(REF_NAME, "")
    if not name or ("/" not in name and ":" not in name):
        return ()  # a bare tag like "latest" names no repository
    try:
        return (Reference.parse(name),)
    except InvalidReference:
        return ()


__all__ = ["Loaded", "load"]
