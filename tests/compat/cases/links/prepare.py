"""Symlinks (relative, absolute, dangling, to a dir) and a hardlink pair in the context."""

from __future__ import annotations

import os
from pathlib import Path


def prepare(context: Path) -> None:
    tree = context / "tree"
    os.symlink("file.txt", tree / "rel-link")
    os.symlink("/etc/passwd", tree / "abs-link")
    os.symlink("nowhere", tree / "dangling")
    os.symlink("dir", tree / "dir-link")
    os.link(tree / "file.txt", tree / "hard.txt")
