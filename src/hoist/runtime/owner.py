"""Owner records: "this directory belongs to that live hoist process".

Every piece of state hoist creates outside the store's own transactions (an
overlay mount, a container bundle) is a directory holding an ``owner.json``
written *before* anything is mounted or started in it (intent first). When a
hoist process dies without cleaning up (SIGKILL, power loss), the next hoist
command finds records whose owner is gone and cleans them up
(:mod:`hoist.runtime.recovery`). The owner is identified by pid *and* process
start time so a recycled pid is not mistaken for a live owner.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

RECORD_NAME = "owner.json"


class Owner(NamedTuple):
    """A process identity that survives pid reuse.

    A named tuple: every command's start-up recovery may read owner records,
    and ``msgspec`` costs more to import than that whole check.
    """

    pid: int
    start_time: int

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(pid, process_start_time(pid) or 0)

    def is_alive(self) -> bool:
        started = process_start_time(self.pid)
        return started is not None and started == self.start_time


def process_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name may contain spaces and parentheses: split after the last ")"
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[19])


def write_record(directory: Path, extra: dict[str, Any]) -> None:
    """Atomically write ``directory/owner.json`` naming the current process as owner.

    Not fsynced: a record only matters while its owner may be alive. A killed
    owner's record is in the page cache for the next hoist to read; a power
    loss takes the owner, its mounts and maybe the record with it, and a dir
    without a record is cleaned once it is older than the recovery's grace.

    Raises:
        OSError: the record could not be written (callers translate it).
    """
    owner = Owner.current()
    data = {"pid": owner.pid, "start_time": owner.start_time, **extra}
    tmp = directory / f".{RECORD_NAME}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, json.dumps(data, sort_keys=True).encode())
    finally:
        os.close(fd)
    os.replace(tmp, directory / RECORD_NAME)


def read_record(directory: Path) -> tuple[Owner, dict[str, Any]] | None:
    """The owner and data of ``directory``'s record; None when absent or unreadable."""
    try:
        data = json.loads((directory / RECORD_NAME).read_text())
        return Owner(int(data["pid"]), int(data["start_time"])), data
    except (OSError, ValueError, KeyError, TypeError):
        return None
