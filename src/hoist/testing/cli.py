"""The ``hoist`` command run in a subprocess, as a user runs it, for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def hoist_argv(root: Path, *args: str) -> list[str]:
    """The argv of ``hoist --root ROOT ARGS…`` with this interpreter."""
    return [sys.executable, "-m", "hoist", "--root", str(root), *args]


def run_hoist(
    root: Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run hoist to completion, capturing text output; never raises on a non-zero exit.

    ``HOIST_DEBUG`` is dropped from the environment, so that what the test sees
    is what a user sees (no tracebacks).
    """
    env = {k: v for k, v in os.environ.items() if k != "HOIST_DEBUG"}
    return subprocess.run(hoist_argv(root, *args), capture_output=True, text=True,
                          timeout=timeout, env=env, input=stdin, cwd=cwd)  # fmt: skip


def write_tree(directory: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name → text) under ``directory``; return ``directory``."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory
