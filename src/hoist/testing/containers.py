"""Helpers for tests that run real containers: a busybox layer, a snapshot, one run.

``run_in_busybox(tmp, args, ...)`` prepares an overlay snapshot over a
busybox layer dir, runs ``args`` through crun or runc with the output
captured, and returns the exit status, the output and the snapshot's change
set (computed after the run, before the snapshot is removed).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hoist.layer.changes import ChangeSet
from hoist.runtime.oci import OciRuntime, RunRequest, RuntimeName, new_container_id
from hoist.runtime.spec import ProcessSpec
from hoist.runtime.users import resolve_user
from hoist.snapshot import OverlaySnapshotter
from hoist.testing.rootfs import make_busybox_rootfs


class RunResult(msgspec.Struct, frozen=True):
    status: int
    stdout: str
    stderr: str
    changes: ChangeSet


def busybox_layer(base: Path) -> Path:
    """A busybox layer dir under ``base`` (made once per ``base``)."""
    layer = base / "busybox-layer"
    if not layer.exists():
        make_busybox_rootfs(layer)
    return layer


def run_in_busybox(tmp: Path, args: tuple[str, ...], *, runtime: RuntimeName = "crun",
                   user: str = "", **process: object) -> RunResult:
    """Run ``args`` in a fresh overlay snapshot of busybox; see the module doc."""
    store = tmp / "store"
    snap = OverlaySnapshotter(store).prepare(new_container_id(), [busybox_layer(tmp)])
    out: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
    try:
        who = resolve_user(snap.rootfs, user)
        spec = ProcessSpec(args=args, uid=who.uid, gid=who.gid,
                           additional_gids=who.additional_gids, **process)  # type: ignore[arg-type]
        request = RunRequest(spec, snap.rootfs, store / "containers",
                             output=lambda name, chunk: out[name].extend(chunk))
        status = OciRuntime(runtime).run(request)
        changes = snap.changes()
    finally:
        snap.remove()
    return RunResult(status, out["stdout"].decode(), out["stderr"].decode(), changes)
