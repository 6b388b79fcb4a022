"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Give SIGINT its usual disposition when the suite was started with it ignored.

    A shell starts a background job with SIGINT ignored (POSIX, without job control), a
    child inherits an ignored signal, and Python then leaves it ignored: the tests that
    press ^C on a hoist would wait forever. Caught here, it is reset to the default in
    every child at exec, as in a suite started from a terminal.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (overlayfs, crun, mounts)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def hoist_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty store directory, also exported as HOIST_ROOT for subprocesses."""
    root = tmp_path / "store"
    monkeypatch.setenv("HOIST_ROOT", str(root))
    return root
