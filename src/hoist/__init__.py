"""hoist: build container images from Dockerfiles, without a daemon."""

from hoist.errors import HoistError

__version__ = "0.1.0"

__all__ = ["HoistError", "__version__"]
