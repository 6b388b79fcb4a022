"""Content descriptors: what a manifest or index says about a blob."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec.structs import replace

from hoist.image import wire
from hoist.models.digest import Digest

_KNOWN = frozenset({"mediaType", "digest", "size", "annotations", "platform", "urls"})


class Descriptor(msgspec.Struct, frozen=True):
    """``mediaType`` + ``digest`` + ``size`` (+ annotations, platform, urls, unknown fields)."""

    media_type: str
    digest: Digest
    size: int
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    platform: dict[str, Any] | None = None
    urls: tuple[str, ...] = ()
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = dict(self.extra)
        obj.update(mediaType=self.media_type, digest=str(self.digest), size=self.size)
        if self.annotations:
            obj["annotations"] = dict(self.annotations)
        if self.platform is not None:
            obj["platform"] = dict(self.platform)
        if self.urls:
            obj["urls"] = list(self.urls)
        return obj

    @classmethod
    def from_json(cls, obj: Any, what: str) -> Descriptor:
        """Parse one descriptor.

        Raises:
            InvalidImageData: a field is missing, of the wrong type, or the digest is malformed.
        """
        if not isinstance(obj, dict):
            raise wire.InvalidImageData(f"reading {what}: descriptor must be an object")
        media_type = wire.get_str(obj, "mediaType", what)
        if not media_type:
            raise wire.InvalidImageData(f"reading {what}: descriptor has no mediaType")
        platform = obj.get("platform")
        if platform is not None and not isinstance(platform, dict):
            raise wire.InvalidImageData(f"reading {what}: 'platform' must be an object")
        return cls(
            media_type=media_type,
            digest=wire.parse_digest(obj.get("digest"), what),
            size=wire.get_int(obj, "size", what),
            annotations=wire.get_str_dict(obj, "annotations", what),
            platform=platform,
            urls=wire.get_str_list(obj, "urls", what) or (),
            extra={k: v for k, v in obj.items() if k not in _KNOWN},
        )

    def with_media_type(self, media_type: str) -> Descriptor:
        return replace(self, media_type=media_type)
