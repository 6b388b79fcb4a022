"""The OCI runtime adapter: crun (default) or runc, driven through a bundle.

:meth:`OciRuntime.run` writes a bundle under ``state_dir/<container id>``
(``owner.json`` first, so recovery can find it; then the ``etc`` files and
``config.json``), runs the container in the foreground, streams its output
live, and always deletes the container, the mount stubs it created in the
rootfs and the bundle — on success, on failure, and on SIGINT/SIGTERM, which
kill the container's whole pid namespace and then surface as
:class:`ContainerInterrupted` (exit status 128 + signal).

The runtime process starts in its own session (a terminal's ^C reaches hoist
only, which then kills the container deliberately), with stdin from
/dev/null (hoist's own for an interactive run) and ``close_fds``: the
container starts with fds 0-2 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Literal

import msgspec
from msgspec.structs import replace

from hoist.errors import ContainerError
from hoist.runtime import stubs
from hoist.runtime.owner import write_record
from hoist.runtime.signals import signals_held
from hoist.runtime.spec import ProcessSpec, Rlimit, build_config, mount_destinations

RuntimeName = Literal["crun", "runc"]
OutputCallback = Callable[[str, bytes], None]
"""Called with ``("stdout" | "stderr", chunk)`` as the container writes."""

_CGROUP2_CONTROLLERS = Path("/sys/fs/cgroup/unified/cgroup.controllers")


class ContainerInterrupted(ContainerError):
    """hoist got SIGINT or SIGTERM while a container ran; it was killed and removed."""

    code = "interrupted"

    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"running container: interrupted by {name}")
        self.signum = signum
        self.exit_code = 128 + signum


class RunRequest(msgspec.Struct, frozen=True):
    """One foreground container run.

    ``rootfs`` is the mounted, writable root; ``state_dir`` the directory
    (under the store root) holding bundles. ``output`` None means the
    container writes straight to hoist's own stdout/stderr. ``interactive``
    gives the container hoist's stdin instead of /dev/null (``hoist shell``);
    no terminal is allocated, and ^C still stops the container.
    """

    process: ProcessSpec
    rootfs: Path
    state_dir: Path
    output: OutputCallback | None = None
    hosts: str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    resolv_conf: str | None = None
    container_id: str = ""
    interactive: bool = False


class OciRuntime:
    """A crun or runc binary. Construct with ``OciRuntime("runc")`` for runc."""

    def __init__(self, name: RuntimeName = "crun") -> None:
        if name not in ("crun", "runc"):
            raise ContainerError(f"choosing the OCI runtime: unknown runtime {name!r}",
                                 hint="use crun or runc")
        binary = shutil.which(name)
        if binary is None:
            raise ContainerError(f"starting a container: {name} is not installed",
                                 hint=f"install the Debian package {name} (make deps)")
        self.name: RuntimeName = name
        self.binary = binary

    def command(self, *args: str) -> list[str]:
        """The argv running this runtime with ``args``, host quirks included."""
        if self.name == "crun" and _hybrid_cgroups_with_v2_controllers():
            # crun 1.8 refuses hybrid hosts whose cgroup2 tree holds controllers;
            # hoist uses no cgroup limits, so hide them in a private mount namespace
            shim = f"mount --bind /dev/null {_CGROUP2_CONTROLLERS} && exec \"$@\""
            return ["unshare", "--mount", "--propagation", "slave", "--", "/bin/sh", "-c",
                    shim, "sh", self.binary, "--cgroup-manager=disabled", *args]
        return [self.binary, *args]

    def run(self, request: RunRequest) -> int:
        """Run the container to completion; return its exit status.

        A process killed by a signal reports 128 + signal, like a shell.

        The runtime's own errors (e.g. an executable not found) go to the
        output like the container's and give a non-zero status.

        Raises:
            ContainerError: the bundle cannot be written or the runtime started.
            ContainerInterrupted: SIGINT/SIGTERM arrived; everything was cleaned up.
        """
        cid = request.container_id or new_container_id()
        bundle = request.state_dir / cid
        with _interruptible() as interrupted:
            try:
                config = self._write_bundle(request, bundle, cid)
                missing = stubs.find_missing(request.rootfs, mount_destinations(config))
                exited = False
                try:
                    status = self._run_foreground(request, bundle, cid)
                    exited = True  # "run" deletes the container itself when it returns
                finally:
                    with signals_held():
                        if not exited:
                            self.kill_and_delete(cid)
                        stubs.remove_stubs(request.rootfs, missing)
            finally:
                with signals_held():
                    shutil.rmtree(bundle, ignore_errors=True)
        if interrupted:
            raise ContainerInterrupted(interrupted[0])
        return status

    def kill_and_delete(self, cid: str) -> None:
        """Kill every process of container ``cid`` and delete it; idempotent."""
        for args in (("kill", cid, "KILL"), ("delete", "--force", cid)):
            subprocess.run(self.command(*args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def _write_bundle(self, request: RunRequest, bundle: Path, cid: str) -> dict[str, object]:
        try:
            request.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            bundle.mkdir(mode=0o700)
            write_record(bundle, {"kind": "container", "runtime": self.name, "id": cid})
            etc = bundle / "etc"
            etc.mkdir()
            hostname = request.process.hostname
            (etc / "hosts").write_text(f"{request.hosts}127.0.1.1\t{hostname}\n")
            (etc / "hostname").write_text(hostname + "\n")
            (etc / "resolv.conf").write_text(_resolv_conf(request))
            process = replace(request.process, rlimits=clamp_rlimits(request.process.rlimits))
            config = build_config(process, str(request.rootfs), str(bundle))
            (bundle / "config.json").write_text(json.dumps(config, indent=1))
        except OSError as exc:
            raise ContainerError(f"writing the OCI bundle {bundle}: {exc.strerror}") from exc
        return config

    def _run_foreground(self, request: RunRequest, bundle: Path, cid: str) -> int:
        pipe = subprocess.PIPE if request.output else None
        argv = self.command("run", "--bundle", str(bundle), cid)
        with _live_lock:
            _live[cid] = self
        try:
            stdin = None if request.interactive else subprocess.DEVNULL
            proc = subprocess.Popen(argv, stdin=stdin, stdout=pipe, stderr=pipe,
                                    close_fds=True, start_new_session=True, cwd=bundle)
        except OSError as exc:
            raise ContainerError(f"starting {self.name}: {exc.strerror}") from exc
        try:
            if request.output is not None:
                _pump(proc, request.output)
            status = proc.wait()
        finally:
            if proc.poll() is None:
                self.kill_and_delete(cid)
                proc.wait()
            with _live_lock:
                _live.pop(cid, None)
        return 128 - status if status < 0 else status


_live: dict[str, OciRuntime] = {}
_live_lock = threading.Lock()


def kill_all() -> None:
    """Kill every container this process is running, e.g. from other threads.

    Signals reach only the main thread; a build that runs steps in worker
    threads calls this when it is interrupted, and each worker's
    :meth:`OciRuntime.run` then returns (status 137) and cleans up as usual.
    """
    with _live_lock:
        live = list(_live.items())
    for cid, runtime in live:
        subprocess.run(runtime.command("kill", cid, "KILL"), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def new_container_id() -> str:
    """A fresh container id, recognisable as hoist's in ``crun list``."""
    return f"hoist-{os.urandom(8).hex()}"


def clamp_rlimits(rlimits: tuple[Rlimit, ...]) -> tuple[Rlimit, ...]:
    """Lower limits above hoist's own hard limit when raising them is not allowed.

    Without CAP_SYS_RESOURCE the runtime cannot raise a hard limit and would
    fail to start the container; Docker's daemon has the capability, hoist
    run in a restricted container may not.
    """
    if _has_cap_sys_resource():
        return rlimits
    clamped = []
    for limit in rlimits:
        _soft, hard = resource.getrlimit(getattr(resource, limit.type))
        if hard != resource.RLIM_INFINITY and limit.hard > hard:
            limit = Rlimit(limit.type, min(limit.soft, hard), hard)
        clamped.append(limit)
    return tuple(clamped)


def _has_cap_sys_resource() -> bool:
    cap_sys_resource = 24
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> cap_sys_resource & 1)
    return False


def _hybrid_cgroups_with_v2_controllers() -> bool:
    try:
        return bool(_CGROUP2_CONTROLLERS.read_text().strip())
    except OSError:
        return False


def _resolv_conf(request: RunRequest) -> str:
    """The host's resolv.conf for the host network (loopback resolvers are reachable
    there too), nothing for a private network that has only loopback."""
    if request.resolv_conf is not None:
        return request.resolv_conf
    if request.process.network == "none":
        return ""
    try:
        return Path("/etc/resolv.conf").read_text()
    except OSError:
        return ""


def _pump(proc: subprocess.Popen[bytes], output: OutputCallback) -> None:
    streams: dict[IO[bytes], str] = {}
    if proc.stdout is not None:
        streams[proc.stdout] = "stdout"
    if proc.stderr is not None:
        streams[proc.stderr] = "stderr"
    with selectors.DefaultSelector() as sel:
        for stream, name in streams.items():
            sel.register(stream, selectors.EVENT_READ, name)
        while sel.get_map():
            for key, _ in sel.select():
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                output(key.data, chunk)


@contextlib.contextmanager
def _interruptible() -> Iterator[list[int]]:
    """Turn SIGINT/SIGTERM into an exception while a container runs.

    Yields a list that receives the signal number; the exception unwinds the
    run (whose ``finally`` blocks kill and clean up) and is swallowed here so
    the caller can raise :class:`ContainerInterrupted` after cleanup.
    """
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def handler(signum: int, _frame: object) -> None:
        got.append(signum)
        raise _Interrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    except _Interrupt:
        pass
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class _Interrupt(BaseException):
    """Raised by the signal handler; never escapes :func:`_interruptible`."""


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`ContainerInterrupted` (as ^C raises
    KeyboardInterrupt), so ``finally`` blocks unmount and clean up on ``kill``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise ContainerInterrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
