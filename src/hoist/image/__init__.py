"""The image model: descriptors, manifests, indexes, configs and image values.

Values are frozen; :mod:`hoist.image.mutate` returns changed copies.
"""

from hoist.image import mediatypes
from hoist.image.config import ConfigFile, ContainerConfig, History, RootFS
from hoist.image.descriptor import Descriptor
from hoist.image.image import Image
from hoist.image.manifest import Index, Manifest
from hoist.image.wire import InvalidImageData, canonical_json

__all__ = [
    "ConfigFile",
    "ContainerConfig",
    "Descriptor",
    "History",
    "Image",
    "Index",
    "InvalidImageData",
    "Manifest",
    "RootFS",
    "canonical_json",
    "mediatypes",
]
