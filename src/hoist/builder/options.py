"""What a build is asked to do: the options of ``hoist build`` as one value."""

# No "from __future__ import annotations" here: typing.NamedTuple would compile every
# string annotation into a ForwardRef at import, which costs more than the classes.

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

NETWORK_MODES = ("default", "host", "none")

_NO_PAIRS: Mapping[str, str] = MappingProxyType({})


class BuildOptions(NamedTuple):
    """Options of one build.

    Paths are strings as given: relative ones are taken from the current
    directory, as docker does. ``dockerfile`` None means ``CONTEXT/Dockerfile``;
    ``dockerfile_text`` is used instead when the Dockerfile came on stdin.
    ``context`` None means an empty context (``hoist build -``).
    ``network`` "default" runs RUN steps on the host network: hoist sets up no
    bridge (a deliberate difference from docker, documented in the README).

    A named tuple of strings, not a struct of paths: every build, the
    replayed no-op one included, makes one, and that path stays clear of
    ``msgspec`` and ``pathlib``.
    """

    context: str | None
    dockerfile: str | None = None
    dockerfile_text: str | None = None
    tags: tuple[str, ...] = ()
    build_args: Mapping[str, str] = _NO_PAIRS
    target: str | None = None
    no_cache: bool = False
    network: str = "default"
    labels: Mapping[str, str] = _NO_PAIRS
    remove_containers: bool = True
    force_remove: bool = False
    runtime: str = "crun"
    iidfile: str | None = None
    check_only: bool = False
