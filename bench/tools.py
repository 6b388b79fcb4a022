"""The builders bench/run.py measures: hoist, docker (classic and BuildKit) and buildah.

Each tool knows how to make the base images, empty its cache and give the argv
of a build; see bench/README.md for what "cold" means for each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DOCKER = "/usr/bin/docker"
#: Dockerfile change applied when importing the Debian base (as examples/node/demo.sh does).
DEBIAN_CMD = 'CMD ["bash"]'


def quiet(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    """One builder. ``command`` gives the argv of a build; ``reset`` empties its cache."""

    name: str
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def unavailable(self) -> str | None:
        """Why this tool cannot be measured here, or None."""
        raise NotImplementedError

    def setup(self, base: Path, work: Path) -> None:
        """Make ``busybox:local`` from the base context ``base``."""
        raise NotImplementedError

    def import_base(self, tarball: Path, ref: str) -> None:
        """Make image ``ref`` from a rootfs tarball (the s6 Debian base)."""
        raise NotImplementedError

    def begin_variant(self, work: Path) -> None:
        """Start a variant with an empty cache (base image kept)."""
        self.reset(work)

    def reset(self, work: Path) -> None:
        raise NotImplementedError

    def command(self, context: Path, tag: str, *, cold: bool) -> list[str]:
        raise NotImplementedError


class Hoist(Tool):
    def __init__(self, executable: Path) -> None:
        super().__init__("hoist")
        self.executable = executable
        self.root = Path()
        self.template = Path()
        self.resets = 0

    def unavailable(self) -> str | None:
        if not self.executable.exists():
            return f"{self.executable} not found"
        status, _ = quiet([str(self.executable), "build", "--help"])
        return None if status == 0 else "`hoist build` is not there yet"

    def setup(self, base: Path, work: Path) -> None:
        self.template = work / "hoist-template"
        check([*self._build(self.template), "-t", "busybox:local", str(base)], self.env)

    def import_base(self, tarball: Path, ref: str) -> None:
        """Import, then unpack the layer once (``hoist run``), as ``docker import`` does.

        hoist unpacks a layer when a step first needs it; without this every cold
        build would unpack the 120 MB base, work docker did at import time.
        """
        hoist = [str(self.executable), "--root", str(self.template)]
        check([*hoist, "import", "-c", DEBIAN_CMD, str(tarball), ref], self.env)
        check([*hoist, "run", "--rm", "--network", "none", ref, "true"], self.env)

    def reset(self, work: Path) -> None:
        # A new directory each time, and the old one is left for the work dir's removal at the
        # end: on an ext4 without a journal (this machine's disk) the inode allocator skips
        # inodes deleted in the last 60-300 s, checking each one (recently_deleted(), found with
        # perf), so creating files next to a just-deleted store of thousands of files costs
        # several times the CPU; a user's store is not deleted before every build.
        self.resets += 1
        self.root = work / f"hoist-store-{self.resets}"
        # cp -a, not copytree: unpacked layers hold device nodes (a Debian base's /dev/zero
        # would be read forever), whiteouts and overlay xattrs
        check(["cp", "-a", str(self.template), str(self.root)], self.env)

    def _build(self, root: Path) -> list[str]:
        return [str(self.executable), "--root", str(root), "build"]

    def command(self, context: Path, tag: str, *, cold: bool) -> list[str]:
        return [*self._build(self.root), "-t", tag, "-f", str(context / "Dockerfile"), str(context)]


class Docker(Tool):
    def __init__(self, buildkit: bool) -> None:
        super().__init__("docker-buildkit" if buildkit else "docker-classic")
        self.buildkit = buildkit
        self.env["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
        self.env["BUILDKIT_PROGRESS"] = "plain"

    def unavailable(self) -> str | None:
        if not Path(DOCKER).exists():
            return f"{DOCKER} not installed"
        status, _ = quiet([DOCKER, "info"])
        return None if status == 0 else "dockerd is not running (tools/start_docker.sh)"

    def setup(self, base: Path, work: Path) -> None:
        status, _ = quiet([DOCKER, "image", "inspect", "busybox:local"])
        if status != 0:  # both docker tools share one image store: build it once
            check([DOCKER, "build", "--network=host", "-t", "busybox:local", str(base)], self.env)

    def import_base(self, tarball: Path, ref: str) -> None:
        status, _ = quiet([DOCKER, "image", "inspect", ref])
        if status != 0:  # shared by both docker tools
            check([DOCKER, "import", "-c", DEBIAN_CMD, str(tarball), ref], self.env)

    def begin_variant(self, work: Path) -> None:
        """Drop this benchmark's images (the classic builder's cache is their parent chain)."""
        _, listing = quiet([DOCKER, "images", "-q", "--filter", "reference=hoist-bench/*"])
        ids = sorted(set(listing.split()))
        if ids:
            check([DOCKER, "rmi", "-f", *ids], self.env)
        # builds retagged away leave dangling chains the classic builder would hit
        check([DOCKER, "image", "prune", "-f"], self.env)
        self.reset(work)

    def reset(self, work: Path) -> None:
        if self.buildkit:
            check([DOCKER, "builder", "prune", "-af"], self.env)

    def command(self, context: Path, tag: str, *, cold: bool) -> list[str]:
        command = [DOCKER, "build", "--network=host", "-t", tag]
        if cold and not self.buildkit:
            command.append("--no-cache")  # classic: cache is the image store itself
        return [*command, "-f", str(context / "Dockerfile"), str(context)]


class Buildah(Tool):
    # crun refuses this machine's hybrid cgroups; runc works
    RUNTIME = "/usr/sbin/runc"

    def __init__(self) -> None:
        super().__init__("buildah")

    def unavailable(self) -> str | None:
        if shutil.which("buildah") is None:
            return "buildah not installed"
        return None if Path(self.RUNTIME).exists() else f"{self.RUNTIME} not installed"

    def _bud(self) -> list[str]:
        return ["buildah", "bud", "--runtime", self.RUNTIME, "--layers", "--network", "host"]

    def setup(self, base: Path, work: Path) -> None:
        check([*self._bud(), "-t", "busybox:local", str(base)], self.env)

    def import_base(self, tarball: Path, ref: str) -> None:
        if quiet(["buildah", "inspect", "--type", "image", ref])[0] == 0:
            return  # made by an earlier run
        status, container = quiet(["buildah", "from", "scratch"])
        if status != 0:
            raise BenchError(f"buildah from scratch failed: {container.strip()}")
        container = container.strip().splitlines()[-1]
        try:
            check(["buildah", "add", container, str(tarball), "/"], self.env)
            check(["buildah", "config", "--cmd", "bash", container], self.env)
            check(["buildah", "commit", container, ref], self.env)
        finally:
            quiet(["buildah", "rm", container])

    def begin_variant(self, work: Path) -> None:
        """Drop this benchmark's images and the untagged layer images (buildah's cache)."""
        _, listing = quiet(["buildah", "images", "-q", "--filter", "reference=hoist-bench/*"])
        ids = sorted(set(listing.split()))
        if ids:
            check(["buildah", "rmi", "-f", *ids], self.env)
        quiet(["buildah", "rmi", "--prune"])

    def reset(self, work: Path) -> None:
        """buildah's layer cache is its image store: cold builds pass --no-cache instead."""

    def command(self, context: Path, tag: str, *, cold: bool) -> list[str]:
        command = [*self._bud(), "-t", tag]
        if cold:
            command.append("--no-cache")
        return [*command, "-f", str(context / "Dockerfile"), str(context)]


class BenchError(Exception):
    """A preparation command failed (the message holds its output's tail)."""


def check(command: Sequence[str], env: dict[str, str]) -> None:
    status, output = quiet(command, env)
    if status != 0:
        tail = "\n".join(output.splitlines()[-15:])
        raise BenchError(f"{' '.join(command)} failed ({status}):\n{tail}")


def make_tools(names: Sequence[str], hoist: Path) -> tuple[list[Tool], dict[str, str]]:
    """The tools asked for that can run here, and why the others cannot."""
    factories = {
        "hoist": lambda: Hoist(hoist),
        "docker-classic": lambda: Docker(buildkit=False),
        "docker-buildkit": lambda: Docker(buildkit=True),
        "buildah": Buildah,
    }
    tools: list[Tool] = []
    skipped: dict[str, str] = {}
    for name in names:
        tool = factories[name]()
        reason = tool.unavailable()
        if reason is None:
            tools.append(tool)
        else:
            skipped[name] = reason
    return tools, skipped
