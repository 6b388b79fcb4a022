"""The image configuration: container config, history, rootfs diff_ids.

Unknown fields are kept (``extra``) so a config survives a round trip through
hoist; Healthcheck, OnBuild and Shell are kept in OCI configs too, as BuildKit
does. Names of the JSON keys are Docker's (``User``, ``Env``, ``Cmd`` …).
"""

from __future__ import annotations

from typing import Any

import msgspec

from hoist.image import wire
from hoist.models.digest import Digest

_CONTAINER_KEYS = frozenset(
    {
        "User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
        "StopSignal", "Healthcheck", "OnBuild", "Shell", "ArgsEscaped",
    }
)  # fmt: skip
_HISTORY_KEYS = frozenset({"created", "created_by", "author", "comment", "empty_layer"})
_CONFIG_KEYS = frozenset(
    {"architecture", "os", "variant", "os.version", "created", "author", "config", "rootfs",
     "history"}
)  # fmt: skip
MAX_HISTORY = 10_000


class ContainerConfig(msgspec.Struct, frozen=True):
    """The runtime defaults of an image (``config`` in the image config JSON)."""

    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    volumes: tuple[str, ...] = ()
    working_dir: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    stop_signal: str = ""
    healthcheck: dict[str, Any] | None = None
    on_build: tuple[str, ...] = ()
    shell: tuple[str, ...] = ()
    args_escaped: bool = False
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Docker's keys; empty values omitted (OCI ``omitempty``); ``Cmd: []`` kept."""
        obj: dict[str, Any] = dict(self.extra)
        pairs: tuple[tuple[str, Any], ...] = (
            ("User", self.user),
            ("ExposedPorts", {p: {} for p in self.exposed_ports}),
            ("Env", list(self.env)),
            ("Volumes", {v: {} for v in self.volumes}),
            ("WorkingDir", self.working_dir),
            ("Labels", dict(self.labels)),
            ("StopSignal", self.stop_signal),
            ("Healthcheck", self.healthcheck),
            ("OnBuild", list(self.on_build)),
            ("Shell", list(self.shell)),
            ("ArgsEscaped", self.args_escaped),
        )
        obj.update((key, value) for key, value in pairs if value)
        for key, seq in (("Entrypoint", self.entrypoint), ("Cmd", self.cmd)):
            if seq is not None:
                obj[key] = list(seq)
        return obj

    @classmethod
    def from_json(cls, obj: dict[str, Any], what: str) -> ContainerConfig:
        """Raises: InvalidImageData for fields of the wrong type."""
        health = obj.get("Healthcheck")
        if health is not None and not isinstance(health, dict):
            raise wire.InvalidImageData(f"reading {what}: 'Healthcheck' must be an object")
        return cls(
            user=wire.get_str(obj, "User", what),
            exposed_ports=tuple(wire.get_dict(obj, "ExposedPorts", what)),
            env=wire.get_str_list(obj, "Env", what) or (),
            entrypoint=wire.get_str_list(obj, "Entrypoint", what),
            cmd=wire.get_str_list(obj, "Cmd", what),
            volumes=tuple(wire.get_dict(obj, "Volumes", what)),
            working_dir=wire.get_str(obj, "WorkingDir", what),
            labels=wire.get_str_dict(obj, "Labels", what),
            stop_signal=wire.get_str(obj, "StopSignal", what),
            healthcheck=health,
            on_build=wire.get_str_list(obj, "OnBuild", what) or (),
            shell=wire.get_str_list(obj, "Shell", what) or (),
            args_escaped=bool(obj.get("ArgsEscaped", False)),
            extra={k: v for k, v in obj.items() if k not in _CONTAINER_KEYS},
        )


class History(msgspec.Struct, frozen=True):
    """One history entry; ``empty_layer`` entries have no layer of their own."""

    created: str | None = None
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = dict(self.extra)
        pairs = (
            ("created", self.created),
            ("created_by", self.created_by),
            ("author", self.author),
            ("comment", self.comment),
            ("empty_layer", self.empty_layer),
        )
        obj.update((key, value) for key, value in pairs if value)
        return obj

    @classmethod
    def from_json(cls, obj: Any, what: str) -> History:
        if not isinstance(obj, dict):
            raise wire.InvalidImageData(f"reading {what}: history entry must be an object")
        return cls(
            created=wire.get_str(obj, "created", what) or None,
            created_by=wire.get_str(obj, "created_by", what),
            author=wire.get_str(obj, "author", what),
            comment=wire.get_str(obj, "comment", what),
            empty_layer=bool(obj.get("empty_layer", False)),
            extra={k: v for k, v in obj.items() if k not in _HISTORY_KEYS},
        )


class RootFS(msgspec.Struct, frozen=True):
    """``rootfs``: the diff_ids (digests of the uncompressed layer tars), bottom first."""

    diff_ids: tuple[Digest, ...] = ()
    type: str = "layers"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "diff_ids": [str(d) for d in self.diff_ids]}

    @classmethod
    def from_json(cls, obj: dict[str, Any], what: str) -> RootFS:
        if wire.get_str(obj, "type", what) != "layers":
            raise wire.InvalidImageData(f"reading {what}: rootfs.type must be 'layers'")
        raw = wire.get_list(obj, "diff_ids", what)
        return cls(tuple(wire.parse_digest(d, f"{what} diff_ids[{i}]") for i, d in enumerate(raw)))


class ConfigFile(msgspec.Struct, frozen=True):
    """The image config JSON (``application/vnd.oci.image.config.v1+json``)."""

    architecture: str = "amd64"
    os: str = "linux"
    variant: str = ""
    os_version: str = ""
    created: str | None = None
    author: str = ""
    config: ContainerConfig = msgspec.field(default_factory=ContainerConfig)
    rootfs: RootFS = msgspec.field(default_factory=RootFS)
    history: tuple[History, ...] = ()
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_json(self) -> bytes:
        obj: dict[str, Any] = dict(self.extra)
        obj.update(architecture=self.architecture, os=self.os, rootfs=self.rootfs.to_json())
        obj["config"] = self.config.to_json()
        optional = (
            ("variant", self.variant),
            ("os.version", self.os_version),
            ("created", self.created),
            ("author", self.author),
            ("history", [h.to_json() for h in self.history]),
        )
        obj.update((key, value) for key, value in optional if value)
        return wire.canonical_json(obj)

    @classmethod
    def from_json(cls, data: bytes, what: str = "image config") -> ConfigFile:
        """Parse and validate an image config.

        Raises:
            InvalidImageData: not JSON, wrong field types, malformed diff_ids, too
                much history, more non-empty history entries than diff_ids.
        """
        obj = wire.load_json(data, what)
        history = wire.get_list(obj, "history", what)
        if len(history) > MAX_HISTORY:
            raise wire.InvalidImageData(f"reading {what}: more than {MAX_HISTORY} history entries")
        config = cls(
            architecture=wire.get_str(obj, "architecture", what),
            os=wire.get_str(obj, "os", what),
            variant=wire.get_str(obj, "variant", what),
            os_version=wire.get_str(obj, "os.version", what),
            created=wire.get_str(obj, "created", what) or None,
            author=wire.get_str(obj, "author", what),
            config=ContainerConfig.from_json(wire.get_dict(obj, "config", what), what),
            rootfs=RootFS.from_json(wire.get_dict(obj, "rootfs", what), what),
            history=tuple(History.from_json(h, f"{what} history") for h in history),
            extra={k: v for k, v in obj.items() if k not in _CONFIG_KEYS},
        )
        config.check_history()
        return config

    def check_history(self) -> None:
        """Raises: InvalidImageData when history names more layers than rootfs has."""
        layered = sum(1 for h in self.history if not h.empty_layer)
        if self.history and layered > len(self.rootfs.diff_ids):
            raise wire.InvalidImageData(
                f"image config: history has {layered} layer entries but rootfs has "
                f"{len(self.rootfs.diff_ids)} diff_ids"
            )
