"""hoist: build container images from Dockerfiles, without a daemon.

    import hoist
    result = hoist.build("examples/hello", tags=["hello:latest"])
    print(result.image_id, [step.cached for step in result.steps])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from hoist.errors import HoistError

if TYPE_CHECKING:
    from hoist.builder.events import EventSink
    from hoist.builder.result import BuildResult

__version__ = "0.1.0"

__all__ = ["HoistError", "__version__", "build"]


def build(
    context: str | os.PathLike[str] | None,
    dockerfile: str | os.PathLike[str] | None = None,
    tags: Iterable[str] = (),
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    no_cache: bool = False,
    network: str = "default",
    labels: Mapping[str, str] | None = None,
    sink: EventSink | None = None,
    remove_containers: bool = True,
    force_remove: bool = False,
    iidfile: str | os.PathLike[str] | None = None,
) -> BuildResult:
    """Build an image from the Dockerfile of ``context``; return what each step did.

    The same parameters as :func:`hoist.builder.api.build` (which this imports
    only when called, so that ``import hoist`` stays light). ``dockerfile`` is
    resolved like the CLI's ``-f``: relative to the current directory, not to
    ``context``.

    Raises:
        BuildError: a step failed (``exit_status``, ``output_tail``).
        HoistError: any other failure.
    """
    from hoist.builder.api import build as _build

    return _build(context, dockerfile, tags, build_args, target, root=root,
                  no_cache=no_cache, network=network, labels=labels, sink=sink,
                  remove_containers=remove_containers, force_remove=force_remove,
                  iidfile=iidfile)  # fmt: skip
