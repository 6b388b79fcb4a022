"""Fixtures of the integration tests: a real store holding busybox:local."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.testing.busybox import busybox_store


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ``busybox:local``, shared by the tests of one module."""
    return busybox_store(tmp_path_factory.mktemp("busybox"))
