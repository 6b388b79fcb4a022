"""Where a store lives. Light on purpose: the CLI's start-up path imports it (not pathlib)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

DB_FILE = "hoist.db"


def default_root() -> Path:
    """``$HOIST_ROOT``, else /var/lib/hoist for root, else $XDG_DATA_HOME/hoist."""
    from pathlib import Path

    return Path(default_root_dir())


def default_root_dir() -> str:
    """:func:`default_root` as a string, for the paths that do without pathlib."""
    env = os.environ.get("HOIST_ROOT")
    if env:
        return env
    if os.geteuid() == 0:
        return "/var/lib/hoist"
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(data, "hoist")
