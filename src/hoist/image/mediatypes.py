"""Media types of the OCI image spec and of Docker's schema2, and their mapping."""

from __future__ import annotations

OCI_LAYOUT_VERSION = "1.0.0"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
CONFIGS = frozenset({OCI_CONFIG, DOCKER_CONFIG})

_LAYER_CODEC = {
    OCI_LAYER: "plain",
    OCI_LAYER_GZIP: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    DOCKER_LAYER: "plain",
    DOCKER_LAYER_GZIP: "gzip",
    DOCKER_LAYER_ZSTD: "zstd",
    DOCKER_FOREIGN_LAYER: "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "plain",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
}
_OCI_LAYER_FOR = {"plain": OCI_LAYER, "gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD}
_DOCKER_LAYER_FOR = {"plain": DOCKER_LAYER, "gzip": DOCKER_LAYER_GZIP, "zstd": DOCKER_LAYER_ZSTD}
_TO_OCI = {
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_MANIFEST_LIST: OCI_INDEX,
    DOCKER_CONFIG: OCI_CONFIG,
}
_TO_DOCKER = {oci: docker for docker, oci in _TO_OCI.items()}


def is_layer(media_type: str) -> bool:
    return media_type in _LAYER_CODEC


def layer_codec(media_type: str) -> str:
    """``plain``, ``gzip`` or ``zstd`` for a layer media type.

    Raises:
        KeyError: not a layer media type hoist knows.
    """
    return _LAYER_CODEC[media_type]


def oci_layer_type(codec: str) -> str:
    """The OCI layer media type for a codec (``plain``/``gzip``/``zstd``)."""
    return _OCI_LAYER_FOR[codec]


def docker_layer_type(codec: str) -> str:
    """The Docker schema2 layer media type for a codec."""
    return _DOCKER_LAYER_FOR[codec]


def to_oci(media_type: str) -> str:
    """Map a Docker schema2 manifest/index/config/layer type to its OCI twin."""
    if media_type in _LAYER_CODEC:
        return _OCI_LAYER_FOR.get(_LAYER_CODEC[media_type], media_type)
    return _TO_OCI.get(media_type, media_type)


def to_docker(media_type: str) -> str:
    """Map an OCI manifest/index/config/layer type to its Docker schema2 twin."""
    if media_type in _LAYER_CODEC:
        return _DOCKER_LAYER_FOR.get(_LAYER_CODEC[media_type], media_type)
    return _TO_DOCKER.get(media_type, media_type)
