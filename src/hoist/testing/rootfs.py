"""A minimal busybox root filesystem as a plain directory, for runtime tests.

Built from the host's static busybox (Debian's ``busybox-static``): the
binary, one symlink per applet, and an ``/etc/passwd`` and ``/etc/group``
with a few users so USER resolution has something to resolve.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

BUSYBOX = Path("/bin/busybox")

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = (
    "root:x:0:\n"
    "daemon:x:1:\n"
    "audio:x:29:app\n"
    "video:x:44:app,root\n"
    "app:x:1000:\n"
    "nogroup:x:65534:\n"
)


def make_busybox_rootfs(dest: Path) -> Path:
    """Populate ``dest`` (created if missing) with a busybox rootfs; return it."""
    bindir = dest / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, bindir / "busybox")
    for applet in _applets():
        link = bindir / applet
        if not link.exists() and not link.is_symlink():
            link.symlink_to("busybox")
    etc = dest / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(PASSWD)
    (etc / "group").write_text(GROUP)
    for name in ("tmp", "root", "home/app"):
        (dest / name).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    return dest


def _applets() -> list[str]:
    out = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    return [name for name in out.stdout.split() if name and "/" not in name]
