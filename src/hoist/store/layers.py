"""Unpacked layers: each diff_id unpacked once into ``layers/<hex>/`` and shared.

Crash safety: the intent is recorded first (row ``state='incomplete'`` naming
the temp dir), the content is made in ``layers/.tmp-<hex>-<pid>``, renamed into
place, and only then marked ``ready``. A half-made dir is never returned: the
per-layer flock guarantees that whoever holds it and finds an ``incomplete``
row is looking at the leftovers of a dead process, which it removes and redoes.
Prune removes ready dirs that no image lists in ``image_layers`` (derived
there at collection time, not counted at every write: a counter cost a query
per layer and image, quadratic in a deep stack's height).

Durability: unpacked dirs are never fsynced (an adopted overlay upper was
mounted ``volatile``, an unpack writes without fsync; syncing them would
flush the whole filesystem at every step). A dir is therefore trusted only in
the boot that made it: each ready row records the kernel's boot id, and a dir
from another boot (after a crash, the only way unsynced data is lost, the
machine has rebooted) is made again from its blob, which is durable and
verified.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hoist.errors import StoreError
from hoist.fs.atomic import fsync_dir
from hoist.fs.lock import file_lock
from hoist.models.digest import Digest

if TYPE_CHECKING:
    from hoist.store.store import Store


def _final(store: Store, diff_id: Digest) -> Path:
    return store.root / "layers" / diff_id.hex


def _lock_path(store: Store, diff_id: Digest) -> Path:
    return store.root / "locks" / f"layer-{diff_id.hex}.lock"


def boot_id() -> str:
    """The kernel's id of the current boot ("" where /proc does not tell: dirs then always pass)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


_BOOT = boot_id()


def ready_layer_dir(store: Store, diff_id: Digest) -> Path | None:
    """The unpacked dir of ``diff_id`` when it is ready and from this boot, else None."""
    row = store.db.one("SELECT state, boot FROM layers WHERE diff_id=?", (str(diff_id),))
    final = _final(store, diff_id)
    if row is None or row[0] != "ready" or row[1] != _BOOT:
        return None
    return final if final.is_dir() else None


def unpacked_layer(store: Store, diff_id: Digest, unpack: Callable[[Path], None]) -> Path:
    """The unpacked dir of ``diff_id``, calling ``unpack(empty_dir)`` the first time.

    ``unpack`` fills the (existing, empty) directory it is given; if it raises,
    the directory is removed and the error propagates.
    Raises:
        StoreError: the directory cannot be created or moved into place.
    """
    ready = ready_layer_dir(store, diff_id)  # the common case needs no lock
    if ready is not None:
        return ready
    with file_lock(_lock_path(store, diff_id)):
        ready = ready_layer_dir(store, diff_id)
        if ready is not None:
            return ready
        _discard_leftovers(store, diff_id)
        tmp = store.root / "layers" / f".tmp-{diff_id.hex}-{os.getpid()}"
        _record_intent(store, diff_id, tmp)
        try:
            tmp.mkdir(mode=0o755)
            unpack(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            _forget(store, diff_id)
            raise
        return _commit(store, diff_id, tmp)


def adopt_layer_dir(store: Store, diff_id: Digest, src_dir: Path) -> Path:
    """Move an already-made dir (e.g. an overlay upper) in as ``diff_id``'s unpacked form.

    ``src_dir`` must be on the store's filesystem. If the layer is already
    unpacked, ``src_dir`` is removed and the existing dir returned.
    Raises:
        StoreError: ``src_dir`` cannot be moved (other filesystem, missing).
    """
    with file_lock(_lock_path(store, diff_id)):
        ready = ready_layer_dir(store, diff_id)
        if ready is not None:
            shutil.rmtree(src_dir, ignore_errors=True)
            return ready
        _discard_leftovers(store, diff_id)
        _record_intent(store, diff_id, src_dir)
        return _commit(store, diff_id, src_dir)


def _record_intent(store: Store, diff_id: Digest, tmp: Path) -> None:
    with store.db.transaction() as tx:
        tx.execute(
            "INSERT OR REPLACE INTO layers(diff_id, dir, state, owner_pid, created)"
            " VALUES (?,?,'incomplete',?,?)",
            (str(diff_id), str(tmp), os.getpid(), time.time()),
        )


def _commit(store: Store, diff_id: Digest, tmp: Path) -> Path:
    final = _final(store, diff_id)
    try:
        os.rename(tmp, final)
        fsync_dir(final.parent)
    except OSError as exc:
        _forget(store, diff_id)
        raise StoreError(f"storing unpacked layer {diff_id} from {tmp}: {exc.strerror}") from exc
    with store.db.transaction() as tx:
        tx.execute(
            "UPDATE layers SET dir=?, state='ready', owner_pid=NULL, boot=? WHERE diff_id=?",
            (str(final), _BOOT, str(diff_id)),
        )
    return final


def _forget(store: Store, diff_id: Digest) -> None:
    with store.db.transaction() as tx:
        tx.execute("DELETE FROM layers WHERE diff_id=?", (str(diff_id),))


def _discard_leftovers(store: Store, diff_id: Digest) -> None:
    """Remove what a dead unpacker left (we hold the layer lock, so it is dead)."""
    row = store.db.one("SELECT dir FROM layers WHERE diff_id=?", (str(diff_id),))
    layers = store.root / "layers"
    doomed = [_final(store, diff_id)]
    doomed += [layers / n for n in os.listdir(layers) if n.startswith(f".tmp-{diff_id.hex}-")]
    if row and Path(row[0]).parent == layers:
        doomed.append(Path(row[0]))
    for path in doomed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
    _forget(store, diff_id)


def remove_unused_layers(store: Store) -> list[Digest]:
    """Delete ready unpacked dirs no image uses (the caller holds the GC lock)."""
    rows = store.db.query(
        "SELECT diff_id FROM layers WHERE state='ready' AND NOT EXISTS"
        " (SELECT 1 FROM image_layers WHERE image_layers.diff_id=layers.diff_id)"
    )
    removed = []
    for (text,) in rows:
        diff_id = Digest.parse(text)
        with file_lock(_lock_path(store, diff_id)):
            shutil.rmtree(_final(store, diff_id), ignore_errors=True)
            _forget(store, diff_id)
        removed.append(diff_id)
    return removed
