"""Manifests and indexes: parsing, strict digests, conversion, unknown fields."""

from __future__ import annotations

import json

import pytest

from hoist.image import Descriptor, Index, InvalidImageData, Manifest
from hoist.image import mediatypes as mt
from hoist.models.digest import Digest, sha256_of
from hoist.models.platform import Platform

CONFIG = sha256_of(b"config")
LAYER = sha256_of(b"layer")


def manifest_json(**overrides: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": {"mediaType": mt.DOCKER_CONFIG, "digest": str(CONFIG), "size": 6},
        "layers": [{"mediaType": mt.DOCKER_LAYER_GZIP, "digest": str(LAYER), "size": 5}],
    }
    obj.update(overrides)
    return obj


def test_docker_manifest_parses_and_converts_to_oci_and_back() -> None:
    manifest = Manifest.from_json(json.dumps(manifest_json()).encode())
    assert manifest.media_type == mt.DOCKER_MANIFEST
    assert manifest.config == Descriptor(mt.DOCKER_CONFIG, CONFIG, 6)
    oci = manifest.to_oci()
    assert oci.media_type == mt.OCI_MANIFEST
    assert oci.config.media_type == mt.OCI_CONFIG
    assert oci.layers[0].media_type == mt.OCI_LAYER_GZIP
    assert oci.to_docker() == manifest


def test_to_json_is_canonical_and_round_trips_unknown_fields() -> None:
    raw = manifest_json(annotations={"a": "b"}, subject={"x": 1})
    raw["layers"][0]["urls"] = ["https://example.com/l"]  # type: ignore[index]
    manifest = Manifest.from_json(json.dumps(raw).encode())
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
    assert json.loads(manifest.to_json())["subject"] == {"x": 1}
    assert manifest.to_json() == again.to_json()
    assert b" " not in manifest.to_json()


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:../../../../etc/passwd",
        "sha256:../../x",
        "sha256:" + "A" * 64,
        "sha256:" + "a" * 63,
        "md5:" + "a" * 32,
        "sha256:",
        "sha256:%2e%2e" + "a" * 58,
        "sha512:" + "a" * 64,
        "",
        42,
    ],
)
def test_malformed_layer_digests_are_rejected(digest: object) -> None:
    raw = manifest_json()
    raw["layers"][0]["digest"] = digest  # type: ignore[index]
    with pytest.raises(InvalidImageData, match="layer 0"):
        Manifest.from_json(json.dumps(raw).encode())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schemaVersion": 1}, "schemaVersion"),
        ({"mediaType": mt.OCI_INDEX}, "not an image manifest"),
        ({"config": {"mediaType": "text/plain", "digest": str(CONFIG), "size": 1}}, "config"),
        ({"layers": {"not": "a list"}}, "must be a list"),
        ({"config": {"mediaType": mt.OCI_CONFIG, "digest": str(CONFIG), "size": -1}}, "size"),
        ({"config": {"mediaType": mt.OCI_CONFIG, "digest": str(CONFIG), "size": True}}, "size"),
    ],
)
def test_bad_manifests_name_the_problem(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidImageData, match=message):
        Manifest.from_json(json.dumps(manifest_json(**overrides)).encode())


def test_not_json_and_not_object() -> None:
    with pytest.raises(InvalidImageData, match="not valid JSON"):
        Manifest.from_json(b"{nope")
    with pytest.raises(InvalidImageData, match="JSON object"):
        Manifest.from_json(b"[]")


def test_index_select_by_platform() -> None:
    amd = Descriptor(
        mt.OCI_MANIFEST, sha256_of(b"a"), 1, platform={"os": "linux", "architecture": "amd64"}
    )
    arm = Descriptor(
        mt.OCI_MANIFEST, sha256_of(b"b"), 1,
        platform={"os": "linux", "architecture": "arm", "variant": "v7"},
    )  # fmt: skip
    index = Index.from_json(Index((amd, arm)).to_json())
    assert index.select(Platform("linux", "amd64")) == amd
    assert index.select(Platform("linux", "arm", "v7")) == arm
    assert index.select(Platform("linux", "s390x")) is None
    single = Index((Descriptor(mt.OCI_MANIFEST, sha256_of(b"c"), 1),))
    assert single.select(Platform("linux", "s390x")) == single.manifests[0]


def test_index_rejects_bad_entries() -> None:
    bad = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": "sha256:x", "size": 1}],
    }
    with pytest.raises(InvalidImageData, match="entry 0"):
        Index.from_json(json.dumps(bad).encode())


def test_media_type_mapping() -> None:
    assert mt.layer_codec(mt.DOCKER_LAYER_GZIP) == "gzip"
    assert mt.layer_codec(mt.OCI_LAYER_ZSTD) == "zstd"
    assert mt.oci_layer_type("plain") == mt.OCI_LAYER
    assert mt.to_docker(mt.OCI_LAYER_ZSTD) == mt.DOCKER_LAYER_ZSTD
    assert mt.to_oci(mt.DOCKER_MANIFEST_LIST) == mt.OCI_INDEX
    assert not mt.is_layer(mt.OCI_CONFIG)
    assert Digest.parse(str(LAYER)) == LAYER
