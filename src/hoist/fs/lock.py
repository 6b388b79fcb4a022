"""Cross-process locks (``fcntl.flock``) plus an in-process lock per key.

``flock`` locks belong to an open file description, so two hoist processes (or
two threads that open the file separately) exclude each other. A
``threading.Lock`` per path is taken too for exclusive locks, so threads of one
process queue in order instead of spinning. The owner pid is written into the
lock file (for diagnostics and for breaking stale locks: a flock dies with its
process, so a lock file whose recorded owner is gone is simply free).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from hoist.errors import StoreLocked

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()
_POLL_SECONDS = 0.05


def _thread_lock(path: Path) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(str(path), threading.Lock())


def lock_owner(path: Path) -> int | None:
    """The pid recorded in a lock file, or None when unknown."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False, timeout: float | None = None) -> Iterator[None]:
    """Hold an flock on ``path`` (created if missing) for the ``with`` body.

    ``timeout`` None waits forever; otherwise waits at most that many seconds.
    Raises:
        StoreLocked: the lock was not obtained within ``timeout``; names the
            lock file and the pid that holds it when known.
    """
    tlock = None if shared else _thread_lock(path)
    if tlock is not None and not tlock.acquire(timeout=-1 if timeout is None else timeout):
        raise StoreLocked(_locked_message(path, timeout))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _flock(fd, path, shared, timeout)
            if not shared:
                _record_owner(fd)
            yield
        finally:
            os.close(fd)  # closing the description releases the flock
    finally:
        if tlock is not None:
            tlock.release()


def _flock(fd: int, path: Path, shared: bool, timeout: float | None) -> None:
    operation = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    if timeout is None:
        fcntl.flock(fd, operation)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StoreLocked(_locked_message(path, timeout)) from None
            time.sleep(_POLL_SECONDS)


def _record_owner(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _locked_message(path: Path, timeout: float | None) -> str:
    owner = lock_owner(path)
    who = f" (held by pid {owner})" if owner else ""
    return f"taking lock {path}: still locked after {timeout}s{who}"
