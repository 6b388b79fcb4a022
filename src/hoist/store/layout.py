"""The OCI image layout files at the store root: ``oci-layout`` and ``index.json``.

``index.json`` lists one entry per tag, with the full normalised reference as
``org.opencontainers.image.ref.name`` (``docker.io/library/busybox:latest``);
skopeo (``oci:$ROOT:docker.io/library/busybox:latest``) and umoci
(``--image $ROOT:docker.io/library/busybox:latest``) both accept that form.
Docker's ``io.containerd.image.name`` annotation carries the same name. The
file is a view of the ``tags`` table, rewritten atomically under a lock after
every tag change; the database stays the authority.
"""

from __future__ import annotations

import json
from pathlib import Path

from hoist.fs.atomic import write_atomic
from hoist.image import mediatypes as mt
from hoist.image.descriptor import Descriptor
from hoist.image.manifest import Index
from hoist.models.digest import Digest

REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"


def ensure_layout(root: Path) -> None:
    """Write ``oci-layout`` and an empty ``index.json`` when missing."""
    layout = root / "oci-layout"
    if not layout.exists():
        write_atomic(layout, json.dumps({"imageLayoutVersion": mt.OCI_LAYOUT_VERSION}).encode())
    if not (root / "index.json").exists():
        write_index(root, [])


def write_index(root: Path, entries: list[tuple[str, Digest, int, str]]) -> None:
    """Rewrite ``index.json`` from ``(name, manifest digest, size, media type)`` rows.

    The caller holds the index lock across reading the rows and this write.
    """
    manifests = tuple(
        Descriptor(media_type, digest, size, annotations={REF_NAME: name, IMAGE_NAME: name})
        for name, digest, size, media_type in sorted(entries)
    )
    write_atomic(root / "index.json", Index(manifests).to_json())


def read_index(root: Path) -> Index:
    """Raises: InvalidImageData (damaged file), OSError."""
    return Index.from_json((root / "index.json").read_bytes(), f"{root}/index.json")
