"""Build small directory trees from a spec, and describe trees for comparison.

Spec values: ``str``/``bytes`` = a regular file with that content; ``None`` = a
directory; ``("link", target)``; ``("fifo",)``; ``("file", content, mode)``;
``("hardlink", other_path)``. Parents are created as needed (mode 0755).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

Spec = dict[str, Any]


def make_tree(base: Path, spec: Spec) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    for rel, value in spec.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if value is None:
            path.mkdir(exist_ok=True)
        elif isinstance(value, str | bytes):
            path.write_bytes(value.encode() if isinstance(value, str) else value)
        elif value[0] == "link":
            os.symlink(value[1], path)
        elif value[0] == "fifo":
            os.mkfifo(path)
        elif value[0] == "file":
            path.write_bytes(value[1].encode())
            os.chmod(path, value[2])
        elif value[0] == "hardlink":
            os.link(base / value[1], path)
        else:
            raise ValueError(value)
    return base


def describe(base: Path, *, owners: bool = True) -> dict[str, str]:
    """Every entry below ``base``: ``type mode [uid:gid] content-or-target``."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[str(path.relative_to(base))] = describe_one(path, owners=owners)
    return out


def describe_one(path: Path, *, owners: bool = True) -> str:
    st = path.lstat()
    owner = f" {st.st_uid}:{st.st_gid}" if owners else ""
    head = f"{_kind(st.st_mode)} {stat.S_IMODE(st.st_mode):04o}{owner}"
    if stat.S_ISREG(st.st_mode):
        return f"{head} {path.read_bytes().decode(errors='replace')}"
    if stat.S_ISLNK(st.st_mode):
        return f"{head} -> {os.readlink(path)}"
    return head


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "other"


def fingerprint(base: Path) -> dict[str, tuple[int, int, int, str]]:
    """(inode, mode, mtime_ns, sha256) of everything below ``base``: a victim snapshot."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            out[str(path)] = (st.st_ino, st.st_mode, st.st_mtime_ns, digest)
    return out
