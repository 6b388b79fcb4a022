"""OCI runtime configuration (config.json) as a pure function of a step.

:func:`build_config` turns a :class:`ProcessSpec` into the ``config.json``
dictionary of an OCI bundle. It does no I/O: the same spec always gives the
same dictionary, which is what the unit tests pin. The defaults follow what
Docker gives a container: its default capability set, ``noNewPrivileges``,
pid/ipc/uts/mount namespaces (plus a network namespace unless the network is
``host``), the standard pseudo-filesystems, and the masked and read-only
``/proc`` paths.

``/etc/hosts``, ``/etc/resolv.conf`` and ``/etc/hostname`` are bind-mounted
from files hoist writes into the bundle (see :mod:`hoist.runtime.oci`), so
what a step writes there never lands in a layer.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Literal

import msgspec

NetworkMode = Literal["host", "none"]

#: Docker's default capability set (moby ``oci/caps/defaults.go``).
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

#: Paths Docker hides from the container (bind of /dev/null or an empty tmpfs).
MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)

#: Paths Docker makes read-only inside the container.
READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: The files hoist writes in the bundle and binds over the rootfs.
ETC_FILES: tuple[str, ...] = ("hosts", "resolv.conf", "hostname")


class Rlimit(msgspec.Struct, frozen=True):
    """One POSIX rlimit, e.g. ``Rlimit("RLIMIT_NOFILE", 1048576, 1048576)``."""

    type: str
    soft: int
    hard: int


DEFAULT_RLIMITS: tuple[Rlimit, ...] = (Rlimit("RLIMIT_NOFILE", 1048576, 1048576),)


class BindMount(msgspec.Struct, frozen=True):
    """An extra bind mount: ``source`` on the host, ``destination`` in the container."""

    source: str
    destination: str
    readonly: bool = False


class ProcessSpec(msgspec.Struct, frozen=True):
    """Everything that decides how a step's process runs.

    ``args`` is the full argv (shell form already expanded by the caller);
    ``env`` holds ``KEY=VALUE`` strings; ``cwd`` must be absolute. ``uid``,
    ``gid`` and ``additional_gids`` come from :mod:`hoist.runtime.users`,
    resolved inside the image, never on the host.
    """

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    hostname: str = "hoist"
    network: NetworkMode = "none"
    mounts: tuple[BindMount, ...] = ()
    rlimits: tuple[Rlimit, ...] = DEFAULT_RLIMITS
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    terminal: bool = False  # the runtime allocates a pty (crun/runc in the foreground proxy it)


def build_config(spec: ProcessSpec, rootfs: str, bundle: str) -> dict[str, Any]:
    """Return the OCI ``config.json`` dictionary for ``spec``.

    ``rootfs`` is the absolute path of the mounted root filesystem and
    ``bundle`` the absolute bundle directory holding the ``etc`` files.

    Raises:
        ValueError: ``spec.args`` is empty or ``spec.cwd`` is not absolute
            (callers validate user input earlier; this guards the contract).
    """
    if not spec.args:
        raise ValueError("an OCI process needs at least one argument")
    if not PurePosixPath(spec.cwd).is_absolute():
        raise ValueError(f"working directory must be absolute: {spec.cwd!r}")
    return {
        "ociVersion": "1.0.2",
        "process": _process(spec),
        "root": {"path": rootfs, "readonly": False},
        "hostname": spec.hostname,
        "mounts": _mounts(spec, bundle),
        "linux": _linux(spec),
    }


def _process(spec: ProcessSpec) -> dict[str, Any]:
    caps = list(spec.capabilities)
    return {
        "terminal": spec.terminal,
        "user": {
            "uid": spec.uid,
            "gid": spec.gid,
            "additionalGids": list(spec.additional_gids),
        },
        "args": list(spec.args),
        "env": list(_with_default_path(spec.env)),
        "cwd": spec.cwd,
        "capabilities": {
            "bounding": caps,
            "effective": caps,
            "permitted": caps,
        },
        "rlimits": [{"type": r.type, "soft": r.soft, "hard": r.hard} for r in spec.rlimits],
        "noNewPrivileges": True,
    }


def _with_default_path(env: tuple[str, ...]) -> tuple[str, ...]:
    """Add Docker's default PATH when the image sets none (as docker does)."""
    if any(item.startswith("PATH=") for item in env):
        return env
    return (f"PATH={DEFAULT_PATH}", *env)


def _mounts(spec: ProcessSpec, bundle: str) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        _fs("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        _fs("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        _fs(
            "/dev/pts",
            "devpts",
            "devpts",
            ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        _fs("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        _fs("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        _fs("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
    ]
    for name in ETC_FILES:
        mounts.append(_bind(f"{bundle}/etc/{name}", f"/etc/{name}", readonly=False))
    mounts.extend(_bind(m.source, m.destination, m.readonly) for m in spec.mounts)
    return mounts


def _fs(destination: str, fstype: str, source: str, options: list[str]) -> dict[str, Any]:
    return {"destination": destination, "type": fstype, "source": source, "options": options}


def _bind(source: str, destination: str, readonly: bool) -> dict[str, Any]:
    options = ["rbind", "rprivate", "nosuid", "nodev"]
    if readonly:
        options.append("ro")
    return {"destination": destination, "type": "bind", "source": source, "options": options}


def _linux(spec: ProcessSpec) -> dict[str, Any]:
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if spec.network != "host":
        namespaces.append({"type": "network"})
    return {
        "namespaces": namespaces,
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }


def mount_destinations(config: dict[str, Any]) -> tuple[str, ...]:
    """The in-container paths the runtime will mount on (it creates missing ones)."""
    return tuple(m["destination"] for m in config["mounts"])
