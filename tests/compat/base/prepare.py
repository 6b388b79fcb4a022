"""busybox:local's context: Debian's busybox-static binary (not kept in git)."""

from __future__ import annotations

import shutil
from pathlib import Path


def prepare(context: Path) -> None:
    shutil.copyfile("/bin/busybox", context / "busybox")
    (context / "busybox").chmod(0o755)
