"""The lower dirs of a snapshot: an image's layers, unpacked once, in a stack overlay takes.

Every rootfs hoist makes (a build step, ``hoist run``, ``hoist shell``) is
prepared through :func:`prepared`, which gives the snapshotter a stack that
stays inside overlayfs's limits by design:

* a layer dir that occurs twice keeps only its topmost place (overlay refuses
  a stack that names a dir twice, and five ``RUN true`` steps give five equal
  empty layers); the lower occurrence adds nothing the upper one does not
  redo, since each layer is self-contained in overlay form;
* an empty layer dir is left out: it shows nothing;
* a stack still deeper than :data:`MAX_LOWERS` has its bottom folded, in
  chunks of :data:`CHUNK` aligned from the bottom, into dirs that each merge
  their chunk (:func:`hoist.layer.flatten.merge_layers` with whiteouts and
  opaque marks kept). A chunk dir is made once, as an unpacked dir of the
  store keyed by the digest of its layers' paths (no image lists it, so
  ``prune`` removes it and it is made again when needed); chunks are aligned
  so that a build adding a step at a time reuses the chunks below.

The kernel allows 500 lowers (``OVL_MAX_STACK``); hoist mounts at most 128,
Docker's historical layer limit, which also keeps every lookup through the
stack short. With ``lowerdir+`` (Linux >= 6.8) there is no option-length
limit; older kernels get ``l/<hex>`` names, 128 of which fit in a page.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hoist.errors import StoreError
from hoist.layer.flatten import merge_layers
from hoist.runtime.signals import signals_held

if TYPE_CHECKING:
    from hoist.image.image import Image
    from hoist.models.digest import Digest
    from hoist.snapshot.base import MutableSnapshot, Snapshotter
    from hoist.store.store import Store

MAX_LOWERS = 128
CHUNK = 64


def image_lowers(store: Store, image: Image) -> list[Path]:
    """The image's layer dirs (bottom → top), unpacking each diff_id once into the store.

    Raises:
        StoreError, LayerError, ArchiveError: a layer is missing or cannot be applied.
    """
    pairs = zip(image.diff_ids, image.layers, strict=True)
    return layer_dirs(store, [(str(d), str(layer.digest)) for d, layer in pairs])


def layer_dirs(store: Store, layers: Iterable[tuple[str, str]]) -> list[Path]:
    """Layer dirs of ``(diff_id, blob digest)`` pairs (bottom → top), each unpacked once.

    Raises:
        InvalidDigest: a malformed digest.
        StoreError, LayerError, ArchiveError: a layer is missing or cannot be applied.
    """
    from hoist.models.digest import Digest

    lowers = []
    for diff_id, blob in layers:
        unpack = functools.partial(_unpack_blob, store, Digest.parse(blob))
        lowers.append(store.unpacked_layer(Digest.parse(diff_id), unpack))
    return lowers


def _unpack_blob(store: Store, digest: Digest, dest: Path) -> None:
    from hoist.layer.apply import apply_layer

    with store.blobs.open(digest) as stream:
        apply_layer(stream, str(dest), whiteout_format="overlay", atomic=False)


def fit_lowers(store: Store, lowers: Sequence[Path]) -> list[Path]:
    """``lowers`` (bottom → top) as a stack of at most :data:`MAX_LOWERS` dirs that mean the same.

    Raises:
        StoreError: a chunk dir cannot be made.
    """
    stack = _distinct_nonempty(lowers)
    if len(stack) <= MAX_LOWERS:
        return stack
    chunks = -(-(len(stack) - MAX_LOWERS) // (CHUNK - 1))  # each fold saves CHUNK - 1 dirs
    folded = [_folded(store, stack[i * CHUNK : (i + 1) * CHUNK]) for i in range(chunks)]
    return folded + stack[chunks * CHUNK :]


def _distinct_nonempty(lowers: Sequence[Path]) -> list[Path]:
    """Each dir at its topmost place only, empty dirs left out (order kept)."""
    seen: set[Path] = set()
    kept: list[Path] = []
    for lower in reversed(lowers):
        if lower in seen:
            continue
        seen.add(lower)
        if not _is_empty(lower):
            kept.append(lower)
    kept.reverse()
    return kept


def _is_empty(directory: Path) -> bool:
    try:
        with os.scandir(directory) as it:
            return next(it, None) is None
    except OSError as exc:
        raise StoreError(f"reading layer dir {directory}: {exc.strerror}") from exc


def _folded(store: Store, chunk: list[Path]) -> Path:
    """The store's dir merging ``chunk`` (bottom → top), made the first time it is asked for."""
    from hoist.models.digest import Digest

    key = hashlib.sha256(b"hoist-fold-v1\0" + b"\0".join(os.fsencode(p) for p in chunk))
    return store.unpacked_layer(Digest.from_hex(key.hexdigest()),
                                functools.partial(_fold, chunk))


def _fold(chunk: list[Path], dest: Path) -> None:
    try:
        merge_layers([str(p) for p in chunk], str(dest), markers=True)
    except OSError as exc:
        raise StoreError(f"folding {len(chunk)} layer dirs into {dest}: {exc}") from exc


@contextlib.contextmanager
def prepared(
    store: Store, snapshotter: Snapshotter, key: str, lowers: Sequence[Path]
) -> Iterator[MutableSnapshot]:
    """A snapshot over :func:`fit_lowers` of ``lowers``, removed when the block ends.

    SIGINT/SIGTERM stay held until the removal is registered: a signal that
    arrives as the mount completes (when ``prepare`` lets it through) would
    otherwise raise between ``prepare`` and the ``try`` and leave it mounted.
    Raises:
        SnapshotError: as ``Snapshotter.prepare``.
        StoreError: a folded chunk cannot be made.
    """
    stack = fit_lowers(store, lowers)
    with contextlib.ExitStack() as exits:
        with signals_held():
            snap = snapshotter.prepare(key, stack)
            exits.callback(snap.remove)
        yield snap
