"""An empty directory (git cannot hold it): COPY of its contents adds nothing."""

from __future__ import annotations

from pathlib import Path


def prepare(context: Path) -> None:
    (context / "empty").mkdir()
