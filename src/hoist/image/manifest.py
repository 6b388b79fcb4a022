"""Image manifests and indexes, OCI and Docker schema2, with conversion between them."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec.structs import replace

from hoist.image import mediatypes as mt
from hoist.image import wire
from hoist.image.descriptor import Descriptor
from hoist.models.platform import Platform

_MANIFEST_KEYS = frozenset({"schemaVersion", "mediaType", "config", "layers", "annotations"})
_INDEX_KEYS = frozenset({"schemaVersion", "mediaType", "manifests", "annotations"})
MAX_LAYERS = 1000


class Manifest(msgspec.Struct, frozen=True):
    """An image manifest: one config descriptor and the layer descriptors, bottom first."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    media_type: str = mt.OCI_MANIFEST
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> bytes:
        obj: dict[str, Any] = dict(self.extra)
        obj.update(
            schemaVersion=2,
            mediaType=self.media_type,
            config=self.config.to_json(),
            layers=[layer.to_json() for layer in self.layers],
        )
        if self.annotations:
            obj["annotations"] = dict(self.annotations)
        return wire.canonical_json(obj)

    @classmethod
    def from_json(cls, data: bytes, what: str = "manifest") -> Manifest:
        """Parse and validate a manifest (schema 2, OCI or Docker).

        Raises:
            InvalidImageData: wrong schema version or media type, malformed
                descriptor or digest, a config that is not an image config.
        """
        obj = wire.load_json(data, what)
        if obj.get("schemaVersion") != 2:
            raise wire.InvalidImageData(f"reading {what}: schemaVersion must be 2")
        media_type = wire.get_str(obj, "mediaType", what) or mt.OCI_MANIFEST
        if media_type not in mt.MANIFESTS:
            raise wire.InvalidImageData(f"reading {what}: not an image manifest ({media_type})")
        config = Descriptor.from_json(obj.get("config"), f"{what} config")
        if config.media_type not in mt.CONFIGS:
            raise wire.InvalidImageData(f"reading {what}: config media type {config.media_type}")
        raw_layers = wire.get_list(obj, "layers", what)
        if len(raw_layers) > MAX_LAYERS:
            raise wire.InvalidImageData(f"reading {what}: more than {MAX_LAYERS} layers")
        layers = tuple(
            Descriptor.from_json(item, f"{what} layer {i}") for i, item in enumerate(raw_layers)
        )
        return cls(
            config=config,
            layers=layers,
            media_type=media_type,
            annotations=wire.get_str_dict(obj, "annotations", what),
            extra={k: v for k, v in obj.items() if k not in _MANIFEST_KEYS},
        )

    def to_oci(self) -> Manifest:
        return self._converted(mt.to_oci)

    def to_docker(self) -> Manifest:
        return self._converted(mt.to_docker)

    def _converted(self, convert: Any) -> Manifest:
        return replace(
            self,
            media_type=convert(self.media_type),
            config=self.config.with_media_type(convert(self.config.media_type)),
            layers=tuple(layer.with_media_type(convert(layer.media_type)) for layer in self.layers),
        )


class Index(msgspec.Struct, frozen=True):
    """An image index (OCI) or manifest list (Docker)."""

    manifests: tuple[Descriptor, ...]
    media_type: str = mt.OCI_INDEX
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> bytes:
        obj: dict[str, Any] = dict(self.extra)
        obj.update(
            schemaVersion=2,
            mediaType=self.media_type,
            manifests=[m.to_json() for m in self.manifests],
        )
        if self.annotations:
            obj["annotations"] = dict(self.annotations)
        return wire.canonical_json(obj)

    @classmethod
    def from_json(cls, data: bytes, what: str = "index") -> Index:
        """Parse and validate an index.

        Raises:
            InvalidImageData: wrong schema version or media type, malformed descriptor.
        """
        obj = wire.load_json(data, what)
        if obj.get("schemaVersion") != 2:
            raise wire.InvalidImageData(f"reading {what}: schemaVersion must be 2")
        media_type = wire.get_str(obj, "mediaType", what) or mt.OCI_INDEX
        if media_type not in mt.INDEXES:
            raise wire.InvalidImageData(f"reading {what}: not an image index ({media_type})")
        raw = wire.get_list(obj, "manifests", what)
        return cls(
            manifests=tuple(
                Descriptor.from_json(item, f"{what} entry {i}") for i, item in enumerate(raw)
            ),
            media_type=media_type,
            annotations=wire.get_str_dict(obj, "annotations", what),
            extra={k: v for k, v in obj.items() if k not in _INDEX_KEYS},
        )

    def select(self, platform: Platform) -> Descriptor | None:
        """The manifest for ``platform``; the only image manifest when there is one."""
        images = [d for d in self.manifests if d.media_type in mt.MANIFESTS | mt.INDEXES]
        for desc in images:
            if desc.platform and _matches(desc.platform, platform):
                return desc
        untargeted = [d for d in images if not d.platform]
        if len(images) == 1 or len(untargeted) == 1:
            return (untargeted or images)[0]
        return None


def _matches(spec: dict[str, Any], platform: Platform) -> bool:
    if spec.get("os") != platform.os or spec.get("architecture") != platform.architecture:
        return False
    return not platform.variant or spec.get("variant", platform.variant) == platform.variant
