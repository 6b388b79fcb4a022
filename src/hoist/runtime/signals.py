"""Holding SIGINT/SIGTERM across steps that must not be cut in half."""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM (main thread only) until the block ends; they arrive right after.

    For short critical sections: creating and mounting a snapshot dir, removing
    it, killing and deleting a container. Other threads never get these
    signals, so the block is a no-op there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def import_held(name: str) -> None:
    """Import module ``name`` with SIGINT/SIGTERM held, once.

    For msgspec: a ^C that lands while its extension module sets itself up is
    lost (its import swallows the KeyboardInterrupt: 12 of 150 tries with the
    signal sent in the first 60 ms), and a hoist started and interrupted at once
    went on to run its container. Held, the signal arrives right after the
    import, where it raises as anywhere else.
    """
    if name not in sys.modules:
        with signals_held():
            importlib.import_module(name)

