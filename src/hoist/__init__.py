"""hoist: build container images from Dockerfiles, without a daemon.

    import hoist
    result = hoist.build("examples/hello", tags=["hello:latest"])
    print(result.image_id, [step.cached for step in result.steps])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hoist.errors import HoistError

if TYPE_CHECKING:
    from hoist.builder.result import BuildResult

__version__ = "0.1.0"

__all__ = ["HoistError", "__version__", "build"]


def build(*args: Any, **kwargs: Any) -> BuildResult:
    """Build an image; see :func:`hoist.builder.api.build` for the parameters."""
    from hoist.builder.api import build as _build

    return _build(*args, **kwargs)
