"""Where a store lives. Light on purpose: the CLI's start-up path imports it."""

from __future__ import annotations

import os
from pathlib import Path

DB_FILE = "hoist.db"


def default_root() -> Path:
    """``$HOIST_ROOT``, else /var/lib/hoist for root, else $XDG_DATA_HOME/hoist."""
    env = os.environ.get("HOIST_ROOT")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/hoist")
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "hoist"
