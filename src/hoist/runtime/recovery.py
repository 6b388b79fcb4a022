"""Start-up recovery: clean what a killed hoist left behind.

Containers (``$ROOT/containers/<id>``) and snapshots (``$ROOT/snapshots/<key>``)
carry an owner record written before they were started or mounted
(:mod:`hoist.runtime.owner`). :func:`recover` finds records whose owner process
is gone and, in that order, kills and deletes the container, unmounts the
snapshot and removes the directories. It is cheap when there is nothing to do
(two directory listings), idempotent, and never raises: a failure is reported
as a warning and retried by the next command.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hoist.errors import HoistError
from hoist.runtime.owner import read_record

#: A directory without a record younger than this may be mid-creation by a live process.
GRACE_SECONDS = 60.0


def store_root(cli_root: str | None) -> Path:
    """The store root a command uses: ``--root``, else the store's default."""
    from hoist.store.location import default_root

    return Path(cli_root) if cli_root else default_root()


def recover(root: Path) -> list[str]:
    """Clean abandoned containers and snapshots under ``root``; return what was cleaned."""
    cleaned: list[str] = []
    for directory in _abandoned(root / "containers"):
        _try(cleaned, directory, _clean_container)
    for directory in _abandoned(root / "snapshots"):
        _try(cleaned, directory, _clean_snapshot)
    return cleaned


def _abandoned(parent: Path) -> list[Path]:
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    found = []
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        record = read_record(Path(entry.path))
        if record is None:
            if _older_than_grace(entry):
                found.append(Path(entry.path))
        elif not record[0].is_alive():
            found.append(Path(entry.path))
    return found


def _older_than_grace(entry: os.DirEntry[str]) -> bool:
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > GRACE_SECONDS
    except OSError:
        return False


def _try(cleaned: list[str], directory: Path, clean: Callable[[Path], None]) -> None:
    try:
        clean(directory)
    except (HoistError, OSError) as exc:
        print(f"hoist: warning: cleaning up {directory}: {exc}", file=sys.stderr)
        return
    cleaned.append(str(directory))


def _clean_container(bundle: Path) -> None:
    from hoist.runtime.oci import OciRuntime

    record = read_record(bundle)
    if record is not None and record[1].get("runtime") in ("crun", "runc"):
        cid = str(record[1].get("id", bundle.name))
        OciRuntime(record[1]["runtime"]).kill_and_delete(cid)
    shutil.rmtree(bundle)


def _clean_snapshot(directory: Path) -> None:
    from hoist.snapshot.base import delete_tree
    from hoist.snapshot.mounts import is_mounted, unmount

    merged = directory / "merged"
    unmount(merged)
    if is_mounted(merged):
        raise OSError(f"{merged} is still mounted")
    delete_tree(directory)


def recover_for_cli(cli_root: str | None) -> None:
    """The CLI's start-up hook: recover the store in use if it exists; never raises."""
    root = store_root(cli_root)
    if not (root / "containers").is_dir() and not (root / "snapshots").is_dir():
        return
    try:
        recover(root)
    except Exception as exc:  # start-up recovery must never stop a command
        print(f"hoist: warning: start-up recovery: {exc}", file=sys.stderr)
