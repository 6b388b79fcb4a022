"""A busybox image for tests and demos, made from the host's static busybox.

``busybox_tar`` writes a deterministic rootfs tarball (``bin/busybox``, a
symlink per applet, ``/etc/passwd``, ``/etc/group``, ``/tmp``, ``/root``);
``make_busybox_image`` imports it into a store as ``busybox:local`` with
``CMD ["sh"]``, the way ``docker import`` would.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from hoist.models.digest import Digest
from hoist.models.reference import Reference

if TYPE_CHECKING:
    from hoist.store.store import Store

BUSYBOX = Path("/bin/busybox")
DEFAULT_REF = "busybox:local"
_PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_GROUP = b"root:x:0:\nnogroup:x:65534:\n"


def applets() -> list[str]:
    out = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    return sorted(name for name in out.stdout.split() if name and "/" not in name)


def busybox_tar(dest: Path, *, all_applets: bool = True) -> Path:
    """Write the rootfs tarball to ``dest``; return ``dest``."""
    names = applets() if all_applets else ["sh", "ls", "cat", "echo", "true", "false"]
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
            tar.addfile(_info(directory, tarfile.DIRTYPE, mode))
        with open(BUSYBOX, "rb") as binary:
            info = _info("bin/busybox", tarfile.REGTYPE, 0o755)
            info.size = BUSYBOX.stat().st_size
            tar.addfile(info, binary)
        for name in names:
            if name != "busybox":
                link = _info(f"bin/{name}", tarfile.SYMTYPE, 0o777)
                link.linkname = "busybox"
                tar.addfile(link)
        for name, data in (("etc/passwd", _PASSWD), ("etc/group", _GROUP)):
            info = _info(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, 0, 0, 0
    return info


def make_busybox_image(store: Store, workdir: Path, ref: str = DEFAULT_REF) -> Digest:
    """Import a busybox image into ``store`` as ``ref``; return its image ID."""
    from hoist.export.importer import import_tarball

    tarball = busybox_tar(workdir / "busybox-rootfs.tar")
    return import_tarball(store, str(tarball), Reference.parse(ref), changes=['CMD ["sh"]'])


def busybox_store(workdir: Path) -> Path:
    """A store at ``workdir/store`` holding ``busybox:local``; return its root."""
    from hoist.store.store import Store

    root = workdir / "store"
    with Store.open(root) as store:
        make_busybox_image(store, workdir)
    return root
