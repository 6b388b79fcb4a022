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
    """Build an image from a Dockerfile into the store at ``root`` (default: hoist's).

    ``dockerfile`` is resolved like the CLI's ``-f``: a relative path is taken
    from the current directory, not from ``context`` (docker-py's
    ``dockerfile=`` is relative to the context); ``None`` means
    ``context/Dockerfile``. ``labels`` are added to the final image (no
    history entry, as BuildKit). ``iidfile`` receives the image ID once the
    build is tagged (``--iidfile``).

    ``remove_containers`` False keeps every RUN's container (``--rm=false``);
    a failed RUN's container is kept anyway unless ``force_remove``
    (``--force-rm``). Kept containers: :mod:`hoist.runtime.kept`.

    Raises:
        BuildError: a step failed; a failed RUN's carries ``exit_status`` (its
            command's) and ``output_tail`` (its last output lines).
        HoistError: any other failure (a Dockerfile error, a missing base
            image, an unwritable ``iidfile``…); what was built before it stays
            in the store.
    """
    from hoist.builder.api import run_build  # imported when called: ``import hoist`` stays light
    from hoist.builder.options import BuildOptions

    options = BuildOptions(
        context=os.fspath(context) if context is not None else None,
        dockerfile=os.fspath(dockerfile) if dockerfile is not None else None,
        tags=tuple(tags),
        build_args=dict(build_args or {}),
        target=target,
        no_cache=no_cache,
        network=network,
        labels=dict(labels or {}),
        remove_containers=remove_containers,
        force_remove=force_remove,
        iidfile=os.fspath(iidfile) if iidfile is not None else None,
    )
    return run_build(options, root=root, sink=sink)
