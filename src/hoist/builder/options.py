"""What a build is asked to do: the options of ``hoist build`` as one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

NETWORK_MODES = ("default", "host", "none")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Options of one build.

    ``dockerfile`` is a path (relative paths are taken from the current
    directory, as docker does) or None for ``CONTEXT/Dockerfile``;
    ``dockerfile_text`` is used instead when the Dockerfile came on stdin.
    ``context`` None means an empty context (``hoist build -``).
    ``network`` "default" runs RUN steps on the host network: hoist sets up no
    bridge (a deliberate difference from docker, documented in the README).
    """

    context: Path | None
    dockerfile: Path | None = None
    dockerfile_text: str | None = None
    tags: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    network: str = "default"
    labels: Mapping[str, str] = field(default_factory=dict)
    remove_containers: bool = True
    force_remove: bool = False
    runtime: str = "crun"
    iidfile: Path | None = None
    check_only: bool = False
