"""Which RUN containers a build keeps, and keeping them (docker classic's ``--rm`` rules).

``--rm`` (default): a container is removed after a successful step and kept
when its command failed; ``--rm=false`` keeps every RUN container;
``--force-rm`` removes every one, failed or not (it wins over ``--rm=false``,
as in docker's classic builder). Only RUN steps have a container worth
keeping: WORKDIR, COPY and ADD never run a process.

A failed step's state is its snapshot's upper dir (overlay) or rootfs
(copy), moved into the store by :func:`hoist.runtime.kept.keep` over the
parent image's layers; a successful step's state is its committed image, so
nothing is copied or moved for it.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from hoist.builder.options import BuildOptions
from hoist.image import Image
from hoist.runtime.kept import KeptContainer, KeptProcess, keep
from hoist.runtime.spec import ProcessSpec
from hoist.snapshot.base import MutableSnapshot
from hoist.store import Store


def keeps(options: BuildOptions, *, failed: bool) -> bool:
    """Whether a RUN container is kept after its command succeeded or failed."""
    if options.force_remove:
        return False
    return failed or not options.remove_containers


class RunRecord(msgspec.Struct, frozen=True):
    """What the build knows about one RUN container when it ends."""

    container_id: str
    started: float
    parent: Image
    parent_id: str
    instruction: str
    line: int
    dockerfile: str
    stage: str
    process: ProcessSpec
    user: str


def keep_failed(store: Store, snap: MutableSnapshot, run: RunRecord, status: int) -> Path:
    """Keep the container of a failed RUN: its writes over the parent image's layers.

    Raises:
        ContainerError, SnapshotError, StoreError: the state cannot be kept.
    """
    upper = snap.commit_dir()  # overlay: unmounted upper dir; copy: None
    state, name = (upper, "upper") if upper is not None else (snap.rootfs, "rootfs")
    layers = () if name == "rootfs" else _layers(run.parent)
    record = _record(run, status, layers, name, held=run.parent_id, committed=None)
    return keep(store, record, state)


def keep_succeeded(store: Store, run: RunRecord, image: Image) -> Path:
    """Keep the container of a successful RUN: its committed image is its state.

    Raises:
        ContainerError, StoreError: the record cannot be written.
    """
    image_id = str(image.id)
    record = _record(run, 0, _layers(image), None, held=image_id, committed=image_id)
    return keep(store, record, None)


def kept_hint(container_id: str) -> str:
    short = container_id[:12]
    return (f"the failed step's container is kept: hoist shell {short}"
            f"  (remove it: hoist rm {short})")


def _layers(image: Image) -> tuple[tuple[str, str], ...]:
    pairs = zip(image.diff_ids, image.layers, strict=True)
    return tuple((str(diff_id), str(layer.digest)) for diff_id, layer in pairs)


def _record(
    run: RunRecord,
    status: int,
    layers: tuple[tuple[str, str], ...],
    state: str | None,
    *,
    held: str,
    committed: str | None,
) -> KeptContainer:
    proc = run.process
    process = KeptProcess(proc.args, proc.env, proc.cwd, proc.uid, proc.gid,
                          proc.additional_gids, run.user, proc.network)  # fmt: skip
    return KeptContainer(
        id=run.container_id,
        created=run.started,
        finished=time.time(),
        image_id=run.parent_id,
        instruction=run.instruction,
        line=run.line,
        dockerfile=run.dockerfile,
        process=process,
        exit_status=status,
        layers=layers,
        state=state,
        committed_image=committed,
        stage=run.stage,
        held_image=held,
    )
