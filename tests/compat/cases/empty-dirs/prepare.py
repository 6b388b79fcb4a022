"""Empty directories (git cannot hold them), nested and alone."""

from __future__ import annotations

from pathlib import Path


def prepare(context: Path) -> None:
    (context / "ctx" / "empty").mkdir()
    (context / "ctx" / "nested" / "deeper").mkdir(parents=True)
