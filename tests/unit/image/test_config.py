"""Image configs and image values: IDs, unknown fields, mutate returning new values."""

from __future__ import annotations

import json

import pytest

from hoist.image import (
    ConfigFile,
    ContainerConfig,
    Descriptor,
    History,
    Image,
    InvalidImageData,
    mutate,
)
from hoist.image import mediatypes as mt
from hoist.models.digest import sha256_of

DOCKER_CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "docker_version": "20.10.24",
    "container_config": {"Hostname": "abc", "Cmd": ["/bin/sh", "-c", '#(nop) CMD ["sh"]']},
    "created": "2024-01-01T00:00:00.123456789Z",
    "config": {
        "Hostname": "",
        "Env": ["PATH=/usr/bin:/bin"],
        "Cmd": ["sh"],
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000},
        "OnBuild": ["RUN echo hi"],
        "Shell": ["/bin/bash", "-c"],
        "ExposedPorts": {"80/tcp": {}},
        "Volumes": {"/data": {}},
        "Labels": {"a": "b"},
        "StopSignal": "SIGTERM",
        "ArgsEscaped": True,
        "Image": "sha256:" + "1" * 64,
    },
    "rootfs": {"type": "layers", "diff_ids": [str(sha256_of(b"l1"))]},
    "history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:x in / "},
        {"created": "2024-01-01T00:00:00Z", "created_by": 'CMD ["sh"]', "empty_layer": True},
    ],
}


def test_config_bytes_are_kept_and_the_id_is_their_digest() -> None:
    data = json.dumps(DOCKER_CONFIG, indent=3).encode()
    image = Image.from_config_bytes(data, (Descriptor(mt.OCI_LAYER, sha256_of(b"l1"), 2),))
    assert image.config_bytes() == data
    assert image.id == sha256_of(data)


def test_parse_then_write_keeps_unknown_and_docker_fields() -> None:
    config = ConfigFile.from_json(json.dumps(DOCKER_CONFIG).encode())
    c = config.config
    assert c.cmd == ("sh",) and c.env == ("PATH=/usr/bin:/bin",)
    assert c.healthcheck == {"Test": ["CMD", "true"], "Interval": 1000000000}
    assert c.on_build == ("RUN echo hi",) and c.shell == ("/bin/bash", "-c")
    assert c.exposed_ports == ("80/tcp",) and c.volumes == ("/data",)
    assert c.args_escaped and c.stop_signal == "SIGTERM"
    written = json.loads(config.to_json())
    assert written["docker_version"] == "20.10.24"
    assert written["container_config"] == DOCKER_CONFIG["container_config"]
    assert written["config"]["Image"] == "sha256:" + "1" * 64
    assert written["config"]["Healthcheck"]["Test"] == ["CMD", "true"]
    assert written["history"][1]["empty_layer"] is True
    assert ConfigFile.from_json(config.to_json()) == config


def test_cmd_none_and_empty_are_different() -> None:
    none = ContainerConfig()
    empty = ContainerConfig(cmd=())
    assert "Cmd" not in none.to_json()
    assert empty.to_json()["Cmd"] == []


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"rootfs": {"type": "layers", "diff_ids": ["sha256:../../x"]}}, "diff_ids"),
        ({"rootfs": {"type": "other", "diff_ids": []}}, "rootfs.type"),
        ({"config": {"Env": "A=B C=D", "Cmd": [1]}}, "Cmd"),
        ({"config": {"Labels": {"a": 1}}}, "Labels"),
        ({"history": [{"created_by": "x"}] * 2}, "history has 2 layer entries"),
        ({"architecture": 5}, "architecture"),
    ],
)
def test_bad_configs_are_rejected(patch: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidImageData, match=message):
        ConfigFile.from_json(json.dumps({**DOCKER_CONFIG, **patch}).encode())


def test_mutate_returns_new_values_and_drops_raw_bytes() -> None:
    base = Image.from_config_bytes(
        json.dumps(DOCKER_CONFIG).encode(), (Descriptor(mt.OCI_LAYER, sha256_of(b"l1"), 2),)
    )
    changed = mutate.set_config(base, env=("A=1",), user="nobody")
    assert base.config.config.env == ("PATH=/usr/bin:/bin",)
    assert changed.config.config.env == ("A=1",)
    assert base.config.config.user == "" and changed.config.config.user == "nobody"
    assert changed.raw_config is None and changed.id != base.id
    layer = Descriptor(mt.OCI_LAYER, sha256_of(b"l2"), 3)
    grown = mutate.append_layer(changed, layer, sha256_of(b"l2"), History(created_by="RUN x"))
    assert grown.diff_ids == (sha256_of(b"l1"), sha256_of(b"l2"))
    assert grown.layers[-1] == layer and len(changed.layers) == 1
    assert grown.config.history[-1].created_by == "RUN x"
    assert not grown.config.history[-1].empty_layer
    noted = mutate.append_history(grown, History(created_by="ENV A=1"))
    assert noted.config.history[-1].empty_layer and noted.layers == grown.layers
    assert (
        mutate.set_created(noted, "2025-01-01T00:00:00Z").config.created == "2025-01-01T00:00:00Z"
    )


def test_layer_count_must_match_diff_ids() -> None:
    with pytest.raises(InvalidImageData, match="1 layers but 0 diff_ids"):
        Image(ConfigFile(), (Descriptor(mt.OCI_LAYER, sha256_of(b"x"), 1),))


def test_scratch_manifest_is_oci_with_the_config_digest() -> None:
    image = Image.scratch()
    manifest = image.manifest()
    assert manifest.media_type == mt.OCI_MANIFEST
    assert manifest.config.digest == image.id
    assert image.manifest(docker=True).config.media_type == mt.DOCKER_CONFIG
