"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
