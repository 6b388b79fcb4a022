"""Functions that return a changed copy of an :class:`Image` (never mutate one).

Every change drops ``raw_config``: the new config is written canonically, so
the new image gets a new ID.
"""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from hoist.image.config import ConfigFile, ContainerConfig, History
from hoist.image.descriptor import Descriptor
from hoist.image.image import Image
from hoist.models.digest import Digest


def with_config_file(image: Image, config: ConfigFile) -> Image:
    """The image with a whole new config file."""
    return replace(image, config=config, raw_config=None)


def set_config(image: Image, **fields: Any) -> Image:
    """Replace :class:`ContainerConfig` fields (``env=(...)``, ``cmd=(...)``, ``user=...``).

    Raises:
        TypeError: an unknown field name (a programming error).
    """
    container = replace(image.config.config, **fields)
    return with_config_file(image, replace(image.config, config=container))


def set_container_config(image: Image, container: ContainerConfig) -> Image:
    return with_config_file(image, replace(image.config, config=container))


def set_created(image: Image, created: str) -> Image:
    return with_config_file(image, replace(image.config, created=created))


def set_fields(image: Image, **fields: Any) -> Image:
    """Replace top-level :class:`ConfigFile` fields (``author``, ``architecture`` …)."""
    return with_config_file(image, replace(image.config, **fields))


def append_layer(image: Image, layer: Descriptor, diff_id: Digest, history: History) -> Image:
    """Add a layer on top, with its diff_id and its (non-empty) history entry."""
    config = image.config
    rootfs = replace(config.rootfs, diff_ids=(*config.rootfs.diff_ids, diff_id))
    entry = replace(history, empty_layer=False)
    new = replace(config, rootfs=rootfs, history=(*config.history, entry))
    return replace(image, config=new, layers=(*image.layers, layer), raw_config=None)


def append_history(image: Image, history: History) -> Image:
    """Add a history entry that has no layer (ENV, CMD, LABEL …)."""
    entry = replace(history, empty_layer=True)
    config = replace(image.config, history=(*image.config.history, entry))
    return with_config_file(image, config)
