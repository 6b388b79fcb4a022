"""The Debian pieces of the s6-apt scenario: a debootstrap base and a loopback apt mirror.

Both are made once and kept in a cache directory (``--cache-dir``, default ``.hoist-demo/``,
where ``make demo-node`` keeps the same ``bookworm.tar``):

* ``bookworm.tar``: ``debootstrap --variant=minbase bookworm`` as a tarball (numeric owners),
  with apt's lists and downloaded ``.deb`` files removed, as examples/node/demo.sh makes it;
* ``apt-mirror/``: a flat repository (``deb [trusted=yes] URL ./``) holding python3 and every
  package it needs that minbase lacks, found by ``apt-get install --download-only`` inside a
  scratch copy of that rootfs (so the versions are those of the rootfs's own sources), indexed
  by ``dpkg-scanpackages`` with a Release file beside it.

:func:`serve` runs ``python3 -m http.server`` on 127.0.0.1 for the length of a ``with`` block.
The mirror is plain HTTP on loopback: no proxy or CA certificate is involved in the builds.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

DEBIAN_MIRROR = "http://deb.debian.org/debian"
MIRROR_PORT = 18080
#: What the s6 Dockerfile installs; the mirror holds these and their missing dependencies.
PACKAGES = ("python3",)


class DebianError(Exception):
    """Making the base or the mirror failed (the message holds the command's output tail)."""


def _run(command: Sequence[str], *, cwd: Path | None = None) -> str:
    """Run ``command``; its stdout (stderr merged unless ``cwd`` is given, for clean output)."""
    stderr = subprocess.PIPE if cwd is not None else subprocess.STDOUT
    proc = subprocess.run(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + (proc.stderr or "")).splitlines()[-15:])
        raise DebianError(f"{' '.join(command)} failed ({proc.returncode}):\n{tail}")
    return proc.stdout


def bookworm_tarball(cache: Path) -> Path:
    """``cache/bookworm.tar``, made with debootstrap when missing.

    Raises:
        DebianError: debootstrap or tar failed.
    """
    tarball = cache / "bookworm.tar"
    if tarball.is_file() and tarball.stat().st_size > 0:
        return tarball
    cache.mkdir(parents=True, exist_ok=True)
    rootfs = cache / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    print(f"bench: debootstrap --variant=minbase bookworm ({DEBIAN_MIRROR})", flush=True)
    _run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), DEBIAN_MIRROR])
    _clean_apt(rootfs)
    partial = tarball.with_suffix(".tar.tmp")
    _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."])
    partial.replace(tarball)
    shutil.rmtree(rootfs)
    return tarball


def _clean_apt(rootfs: Path) -> None:
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*"):
        for path in rootfs.glob(pattern):
            if path.is_file():
                path.unlink()


def apt_mirror(cache: Path, tarball: Path) -> Path:
    """``cache/apt-mirror``: a flat repository with :data:`PACKAGES` for that base.

    Raises:
        DebianError: unpacking, apt-get or dpkg-scanpackages failed.
    """
    mirror = cache / "apt-mirror"
    if (mirror / "Release").is_file():
        return mirror
    scratch = cache / "mirror-rootfs"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        _run(["tar", "-C", str(scratch), "--numeric-owner", "-xf", str(tarball)])
        debs = _download(scratch)
        partial = cache / "apt-mirror.tmp"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for deb in debs:
            shutil.copy2(deb, partial / deb.name)
        _index(partial)
        shutil.rmtree(mirror, ignore_errors=True)
        partial.replace(mirror)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return mirror


def _download(rootfs: Path) -> list[Path]:
    """The ``.deb`` files apt in ``rootfs`` needs to install :data:`PACKAGES`."""
    print(f"bench: downloading {' '.join(PACKAGES)} and dependencies for the mirror", flush=True)
    chroot = ["chroot", str(rootfs), "apt-get", "-q", "-o", "APT::Sandbox::User=root"]
    _run([*chroot, "update"])
    _run([*chroot, "install", "-y", "--no-install-recommends", "--download-only", *PACKAGES])
    debs = sorted((rootfs / "var/cache/apt/archives").glob("*.deb"))
    if not debs:
        raise DebianError(f"apt-get downloaded nothing for {' '.join(PACKAGES)}")
    return debs


def _index(repo: Path) -> None:
    """Write Packages, Packages.gz and a Release listing their hashes."""
    stanzas = _run(["dpkg-scanpackages", "--multiversion", ".", "/dev/null"], cwd=repo).encode()
    (repo / "Packages").write_bytes(stanzas)
    (repo / "Packages.gz").write_bytes(gzip.compress(stanzas, mtime=0))
    lines = ["Origin: hoist-bench", "Label: hoist-bench", "Suite: bench", "Codename: bench"]
    lines.append("Date: " + time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()))
    lines.append("SHA256:")
    for name in ("Packages", "Packages.gz"):
        data = (repo / name).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    (repo / "Release").write_text("\n".join(lines) + "\n")


@contextmanager
def serve(directory: Path, port: int = MIRROR_PORT) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1:``port``; yields the base URL.

    Raises:
        DebianError: the port is taken or the server did not start within 10 s.
    """
    if _listening(port):
        raise DebianError(f"serving the apt mirror: 127.0.0.1:{port} is already in use")
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    server = subprocess.Popen(
        [*command, "--directory", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(server, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_listening(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 10
    while not _listening(port):
        if server.poll() is not None or time.monotonic() > deadline:
            raise DebianError(f"serving the apt mirror: http.server did not start on port {port}")
        time.sleep(0.1)
