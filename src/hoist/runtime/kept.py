"""Kept intermediate containers: what a RUN left, for ``hoist ps``, ``shell`` and ``rm``.

``hoist build`` keeps a RUN's container when the command failed (unless
``--force-rm``) and every RUN's container with ``--rm=false``. A kept
container lives in ``$ROOT/kept/<id>/`` (``id`` = 64 hex, shown as 12):

    container.json   the record (:class:`KeptContainer`)
    upper/           overlay snapshotter: the step's upper dir (overlay form), or
    rootfs/          copy snapshotter: the whole root filesystem
                     (neither when the step succeeded: its committed image *is* the state)

Its lower layers are those of the image in :attr:`KeptContainer.layers`,
which the container holds in the store (``holds`` table, holder
``container:<id>``): neither ``hoist prune`` nor ``hoist rmi`` deletes that
image, so GC keeps its blobs and unpacked layer dirs.

Crash safety: the kept dir is staged *inside* the step's snapshot dir (whose
owner record says "live process"), the hold is recorded, then one rename moves
it to ``kept/<id>``. Recovery never looks at ``kept/``; a crash before the
rename leaves the staging dir inside a dead snapshot, which recovery removes
as usual, plus at most a hold without a dir, which :func:`list_kept` drops
once it is older than a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from hoist.errors import ContainerError, UserInputError
from hoist.fs.atomic import fsync_dir, write_atomic
from hoist.runtime.spec import ProcessSpec

if TYPE_CHECKING:
    from hoist.store.store import Store

KEPT_DIR = "kept"
RECORD = "container.json"
HOLD_PREFIX = "container:"
#: A hold without a kept dir younger than this may belong to a build about to rename it.
ORPHAN_GRACE_SECONDS = 60.0


class ContainerNotFound(UserInputError):
    """No kept container matches the given id (or prefix), or several do."""

    code = "container-not-found"


class KeptProcess(msgspec.Struct, frozen=True):
    """The process the step ran, as the runtime got it."""

    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    user: str = ""  # the USER text it came from, e.g. "app" or "1000:1000"
    network: str = "host"


class KeptContainer(msgspec.Struct, frozen=True):
    """The record of one kept container (``container.json``)."""

    id: str
    created: float  # Unix time the container started
    finished: float  # Unix time its command exited
    image_id: str  # the image it was created from (the step's parent)
    instruction: str  # as written, e.g. "RUN make"
    line: int
    dockerfile: str
    process: KeptProcess
    exit_status: int
    layers: tuple[tuple[str, str], ...]  # (diff_id, blob digest), bottom → top
    state: str | None = None  # "upper", "rootfs" or None (the committed image is the state)
    committed_image: str | None = None  # the step's image when it succeeded
    stage: str = ""
    held_image: str = ""  # the image whose layers are :attr:`layers`
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def to_json(self) -> bytes:
        return json.dumps(msgspec.to_builtins(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> KeptContainer:
        """Raises: ValueError, KeyError, TypeError on a malformed record."""
        raw = json.loads(data)
        proc_raw = raw.pop("process")
        process = KeptProcess(
            args=tuple(proc_raw["args"]),
            env=tuple(proc_raw["env"]),
            cwd=proc_raw["cwd"],
            uid=int(proc_raw["uid"]),
            gid=int(proc_raw["gid"]),
            additional_gids=tuple(int(g) for g in proc_raw.get("additional_gids", ())),
            user=proc_raw.get("user", ""),
            network=proc_raw.get("network", "host"),
        )
        raw["layers"] = tuple((str(d), str(b)) for d, b in raw["layers"])
        return cls(process=process, **raw)


def new_id() -> str:
    """A fresh container id: 64 hex, shown as its first 12 (docker's shape)."""
    import secrets

    return secrets.token_hex(32)


def kept_root(store_root: Path) -> Path:
    return store_root / KEPT_DIR


def kept_dir(store_root: Path, cid: str) -> Path:
    return kept_root(store_root) / cid


def keep(store: Store, record: KeptContainer, state: Path | None) -> Path:
    """Move ``state`` (an upper dir or rootfs, unmounted) and ``record`` to ``kept/<id>``.

    ``state`` must be on the store's filesystem, inside a dir that recovery
    owns (the step's snapshot dir): the staging dir is made beside it.
    Raises:
        ContainerError: the kept dir cannot be made.
        StoreError: the hold cannot be recorded.
    """
    final = kept_dir(store.root, record.id)
    try:
        kept_root(store.root).mkdir(mode=0o700, exist_ok=True)
        staging = _stage(record, state, final)
    except OSError as exc:
        raise ContainerError(f"keeping container {record.short_id}: {exc}") from exc
    store.tables.hold_put(HOLD_PREFIX + record.id, record.held_image)
    try:
        os.rename(staging, final)
        fsync_dir(final.parent)
    except OSError as exc:
        store.tables.hold_delete(HOLD_PREFIX + record.id)
        raise ContainerError(f"keeping container {record.short_id}: {exc}") from exc
    return final


def _stage(record: KeptContainer, state: Path | None, final: Path) -> Path:
    """The complete kept dir, made beside ``state`` (or in ``kept/`` when there is none)."""
    parent = state.parent if state is not None else final.parent
    staging = parent / f".keep-{record.id}"
    staging.mkdir(mode=0o700)
    if state is not None and record.state is not None:
        os.rename(state, staging / record.state)
        _sync_filesystem(staging)
    write_atomic(staging / RECORD, record.to_json(), mode=0o600)
    return staging


def _sync_filesystem(directory: Path) -> None:
    """Flush the state's filesystem: the overlay was mounted ``volatile``, and unlike an
    unpacked layer a kept upper dir has no blob to be made again from after a crash."""
    import ctypes

    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if ctypes.CDLL(None, use_errno=True).syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def list_kept(store: Store) -> list[KeptContainer]:
    """Every kept container, newest first; drops holds whose dir is long gone.

    Unreadable records are skipped (``hoist rm`` still removes them by id).
    """
    found = []
    for directory in _dirs(store.root):
        record = read_kept(directory)
        if record is not None:
            found.append(record)
    _drop_orphan_holds(store, {c.id for c in found} | {d.name for d in _dirs(store.root)})
    return sorted(found, key=lambda c: (c.created, c.id), reverse=True)


def read_kept(directory: Path) -> KeptContainer | None:
    try:
        return KeptContainer.from_json((directory / RECORD).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _dirs(store_root: Path) -> list[Path]:
    try:
        entries = list(os.scandir(kept_root(store_root)))
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)
            and not e.name.startswith(".")]  # fmt: skip


def _drop_orphan_holds(store: Store, present: set[str]) -> None:
    now = time.time()
    for holder, _image, created in store.tables.holds():
        if not holder.startswith(HOLD_PREFIX):
            continue
        if holder.removeprefix(HOLD_PREFIX) not in present and now - created > ORPHAN_GRACE_SECONDS:
            store.tables.hold_delete(holder)


def find(store: Store, text: str) -> str:
    """The full id of the kept container ``text`` names (full id or unique prefix).

    Raises:
        ContainerNotFound: no container, or several, match.
    """
    ids = [d.name for d in _dirs(store.root)]
    if text in ids:
        return text
    matches = [cid for cid in ids if text and cid.startswith(text.lower())]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ContainerNotFound(f"finding container {text}: multiple containers match",
                                hint="give more characters of the id")
    raise ContainerNotFound(f"finding container {text}: no such container",
                            hint="hoist ps -a lists the kept containers")


def remove(store: Store, cid: str) -> None:
    """Delete kept container ``cid`` (its dir, then its hold); idempotent.

    The dir goes first: a crash in between leaves a hold without a dir, which
    :func:`list_kept` drops, never a dir whose layers are no longer held.
    Raises:
        ContainerError: the dir cannot be deleted.
    """
    directory = kept_dir(store.root, cid)
    doomed = directory.with_name(f".rm-{cid}")
    try:
        if directory.is_dir():
            os.rename(directory, doomed)  # one step: never half a kept container under its id
        if doomed.exists():
            shutil.rmtree(doomed)
    except OSError as exc:
        raise ContainerError(f"removing container {cid[:12]}: {exc}") from exc
    store.tables.hold_delete(HOLD_PREFIX + cid)


def remove_all(store: Store) -> list[str]:
    """``docker container prune``: remove every kept container; return their ids.

    Raises:
        ContainerError: a dir cannot be deleted.
    """
    removed = []
    for directory in _dirs(store.root):
        remove(store, directory.name)
        removed.append(directory.name)
    for holder, _image, _created in store.tables.holds():
        if holder.startswith(HOLD_PREFIX):
            store.tables.hold_delete(holder)
    _sweep_leftovers(store.root)
    return removed


def _sweep_leftovers(store_root: Path) -> None:
    """Remove what a killed ``keep``/``remove`` left in ``kept/`` (``.keep-*`` after a grace)."""
    try:
        entries = list(os.scandir(kept_root(store_root)))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        stale = entry.name.startswith(".rm-") or (
            entry.name.startswith(".keep-")
            and now - entry.stat(follow_symlinks=False).st_mtime > ORPHAN_GRACE_SECONDS
        )
        if stale and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def lower_dirs(store: Store, container: KeptContainer) -> list[Path]:
    """The container's rootfs as layer dirs, bottom → top: its image's, then its own state.

    Raises:
        StoreError, LayerError: a layer is missing or cannot be unpacked.
    """
    from hoist.snapshot.lowers import layer_dirs

    lowers = [] if container.state == "rootfs" else layer_dirs(store, container.layers)
    if container.state is not None:
        lowers.append(kept_dir(store.root, container.id) / container.state)
    return lowers


def shell(store: Store, cid: str, command: tuple[str, ...], runtime: str = "crun") -> int:
    """Run ``command`` (default ``/bin/sh``) in kept container ``cid``; return its status.

    The container's state is mounted as the lowers of a *new* throw-away
    snapshot: what the shell changes is discarded, so the kept state stays
    what the step left (several shells may look at it at once). The process
    gets the step's env, workdir and user, and hoist's stdin/stdout/stderr;
    when those are a terminal, the runtime gives the process a pty of its own.
    Raises:
        ContainerNotFound: no such container.
        ContainerError, SnapshotError, StoreError: the rootfs or the container failed.
        ContainerInterrupted: SIGINT/SIGTERM; everything was cleaned up.
    """
    import secrets

    from hoist.runtime.container import ensure_workdir
    from hoist.runtime.oci import OciRuntime, RunRequest, sigterm_raises
    from hoist.snapshot import choose
    from hoist.snapshot.lowers import prepared

    record = read_kept(kept_dir(store.root, cid))
    if record is None:
        raise ContainerNotFound(f"reading container {cid[:12]}: its record is missing or damaged",
                                hint=f"remove it: hoist rm {cid[:12]}")
    oci = OciRuntime(runtime)  # type: ignore[arg-type]
    key = f"shell-{secrets.token_hex(8)}"
    process = _shell_process(record, command)
    lowers = lower_dirs(store, record)
    with sigterm_raises(), prepared(store, choose(store.root), key, lowers) as snap:
        ensure_workdir(snap.rootfs, process)
        request = RunRequest(process, snap.rootfs, store.root / "containers",
                             container_id=f"hoist-{key}", interactive=True)
        return oci.run(request)


def _shell_process(record: KeptContainer, command: tuple[str, ...]) -> ProcessSpec:
    """The step's process with ``command`` (default ``/bin/sh``); a terminal (and
    ``TERM=xterm`` when unset, as ``docker run -t``) when hoist runs on one."""
    import sys

    from msgspec.structs import replace

    process = replace(_process_spec(record), args=command or ("/bin/sh",))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return process
    env = process.env
    if not any(item.startswith("TERM=") for item in env):
        env = (*env, "TERM=xterm")
    return replace(process, env=env, terminal=True)


def _process_spec(record: KeptContainer) -> ProcessSpec:
    proc = record.process
    return ProcessSpec(
        args=proc.args,
        env=proc.env,
        cwd=proc.cwd,
        uid=proc.uid,
        gid=proc.gid,
        additional_gids=proc.additional_gids,
        hostname=record.short_id,
        network="none" if proc.network == "none" else "host",
    )
