"""Deterministic archives: fixed mtimes, owners and modes; a hardlink and a symlink inside."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from pathlib import Path

MTIME = 1_600_000_000


def _info(name: str, kind: bytes, mode: int, uid: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, MTIME, uid, uid
    return info


def _write(tar: tarfile.TarFile) -> None:
    tar.addfile(_info("top", tarfile.DIRTYPE, 0o750, uid=7))
    data = b"inside the archive\n"
    info = _info("top/file.txt", tarfile.REGTYPE, 0o640, uid=7)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    link = _info("top/hard.txt", tarfile.LNKTYPE, 0o640, uid=7)
    link.linkname = "top/file.txt"
    tar.addfile(link)
    sym = _info("top/sym", tarfile.SYMTYPE, 0o777)
    sym.linkname = "file.txt"
    tar.addfile(sym)
    exe = _info("bin-tool", tarfile.REGTYPE, 0o4755)
    exe.size = 4
    tar.addfile(exe, io.BytesIO(b"#!x\n"))


def prepare(context: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        _write(tar)
    raw = buffer.getvalue()
    (context / "plain.tar").write_bytes(raw)
    # gzip's header holds a timestamp: pin it so the archive is byte-identical
    (context / "gz.tar.gz").write_bytes(gzip.compress(raw, mtime=0))
    (context / "bz.tar.bz2").write_bytes(bz2.compress(raw))
    (context / "xz.tar.xz").write_bytes(lzma.compress(raw, format=lzma.FORMAT_XZ))
