"""An image as a value: its config and its layer descriptors.

``raw_config`` holds the exact config bytes of an image read from somewhere
(archive, registry, store) so that its ID (the digest of those bytes, as
Docker computes it) survives; any change made with :mod:`hoist.image.mutate`
drops it and the config is written canonically again.
"""

from __future__ import annotations

from functools import cached_property

import msgspec

from hoist.image import mediatypes as mt
from hoist.image import wire
from hoist.image.config import ConfigFile
from hoist.image.descriptor import Descriptor
from hoist.image.manifest import Manifest
from hoist.models.digest import Digest, sha256_of
from hoist.models.platform import Platform


class Image(msgspec.Struct, frozen=True, dict=True):
    """Config + layer blob descriptors (bottom first, one per ``rootfs.diff_ids`` entry)."""

    # dict=True: room for ``_canonical`` and ``id`` (cached properties, not fields: neither
    # compared, shown nor copied by ``replace``)
    config: ConfigFile
    layers: tuple[Descriptor, ...] = ()
    raw_config: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.layers) != len(self.config.rootfs.diff_ids):
            raise wire.InvalidImageData(
                f"image: {len(self.layers)} layers but {len(self.config.rootfs.diff_ids)} diff_ids"
            )

    @classmethod
    def from_config_bytes(cls, data: bytes, layers: tuple[Descriptor, ...]) -> Image:
        """Parse ``data`` and keep its exact bytes.

        Raises:
            InvalidImageData: malformed config, or layer count != diff_id count.
        """
        return cls(ConfigFile.from_json(data), layers, data)

    @classmethod
    def scratch(cls, platform: Platform | None = None) -> Image:
        """The empty image ``FROM scratch`` starts from."""
        plat = platform or Platform.host()
        return cls(ConfigFile(architecture=plat.architecture, os=plat.os, variant=plat.variant))

    def config_bytes(self) -> bytes:
        if self.raw_config is not None:
            return self.raw_config
        return self._canonical

    @cached_property
    def _canonical(self) -> bytes:
        # made on first use: an image is immutable, and its id is asked for many times per
        # build step
        return self.config.to_json()

    @cached_property
    def id(self) -> Digest:
        """The image ID: the digest of the config JSON bytes (hashed once per value)."""
        return sha256_of(self.config_bytes())

    @property
    def diff_ids(self) -> tuple[Digest, ...]:
        return self.config.rootfs.diff_ids

    def config_descriptor(self, media_type: str = mt.OCI_CONFIG) -> Descriptor:
        data = self.config_bytes()
        return Descriptor(media_type, sha256_of(data), len(data))

    def manifest(self, *, docker: bool = False) -> Manifest:
        """An OCI manifest for this image (Docker schema2 with ``docker=True``)."""
        oci = Manifest(self.config_descriptor(), tuple(self.layers))
        return oci.to_docker() if docker else oci.to_oci()

    @property
    def platform(self) -> Platform:
        return Platform(self.config.os, self.config.architecture, self.config.variant)
