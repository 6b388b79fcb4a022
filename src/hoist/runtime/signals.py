"""Holding SIGINT/SIGTERM across steps that must not be cut in half."""

from __future__ import annotations

import contextlib
import signal
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
