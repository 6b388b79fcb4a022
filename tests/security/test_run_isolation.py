"""RUN isolation for real, with crun and runc (SECURITY.md E6)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hoist.layer.changes import Kind
from hoist.runtime.spec import DEFAULT_CAPABILITIES
from hoist.testing.containers import run_in_busybox

pytestmark = pytest.mark.root

RUNTIMES = pytest.mark.parametrize("runtime", ["crun", "runc"])

# Docker's default set as a capability mask (see capabilities(7) numbering)
_CAP_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_FSETID": 4,
             "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
             "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18,
             "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29, "CAP_SETFCAP": 31}
DOCKER_CAPS = f"{sum(1 << _CAP_BITS[c] for c in DEFAULT_CAPABILITIES):016x}"


def _status(stdout: str) -> dict[str, str]:
    return {k: v.strip() for k, _, v in (ln.partition(":") for ln in stdout.splitlines())}


@RUNTIMES
def test_only_fds_0_to_2_are_open_at_start(tmp_path: Path, runtime: str) -> None:
    leak = os.open(tmp_path, os.O_RDONLY)  # an fd hoist holds must not reach the container
    os.set_inheritable(leak, True)
    try:
        # "; true" keeps sh from exec'ing ls, so $$ is the container's first process
        result = run_in_busybox(tmp_path, ("sh", "-c", "ls /proc/$$/fd; true"), runtime=runtime)
    finally:
        os.close(leak)
    assert result.status == 0, result.stderr
    assert result.stdout.split() == ["0", "1", "2"]


@RUNTIMES
def test_capabilities_no_new_privs_and_root_groups(tmp_path: Path, runtime: str) -> None:
    result = run_in_busybox(tmp_path, ("cat", "/proc/self/status"), runtime=runtime)
    status = _status(result.stdout)
    assert DOCKER_CAPS == "00000000a80425fb"
    assert status["CapBnd"] == DOCKER_CAPS
    assert status["CapEff"] == DOCKER_CAPS
    assert status["CapAmb"] == "0" * 16
    assert status["NoNewPrivs"] == "1"
    assert status["Groups"] == "44"  # root is listed in the image's group "video" only


@RUNTIMES
def test_user_and_supplementary_groups_come_from_the_image(tmp_path: Path, runtime: str) -> None:
    result = run_in_busybox(tmp_path, ("sh", "-c", "id; grep -E 'Groups|CapEff' /proc/self/status"),
                            runtime=runtime, user="app")
    assert result.status == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "uid=1000(app) gid=1000(app) groups=29(audio),44(video)"
    status = _status("\n".join(lines[1:]))
    assert status["Groups"].split() == ["29", "44"]
    assert status["CapEff"] == "0" * 16


@RUNTIMES
def test_host_processes_and_files_are_invisible(tmp_path: Path, runtime: str) -> None:
    marker = f"host-only-{os.getpid()}"
    (tmp_path / marker).write_text("secret")
    script = f"ls /proc | grep -E '^[0-9]+$'; echo ---; find / -xdev -name '{marker}'; hostname"
    result = run_in_busybox(tmp_path, ("sh", "-c", script), runtime=runtime, hostname="box1")
    pids, _, rest = result.stdout.partition("---\n")
    assert {int(p) for p in pids.split()} <= set(range(1, 10))
    assert marker not in rest
    assert rest.split() == ["box1"]


@RUNTIMES
def test_private_network_has_loopback_only(tmp_path: Path, runtime: str) -> None:
    result = run_in_busybox(tmp_path, ("cat", "/proc/net/dev"), runtime=runtime, network="none")
    interfaces = {ln.split(":")[0].strip() for ln in result.stdout.splitlines() if ":" in ln}
    assert interfaces == {"lo"}


@RUNTIMES
def test_exit_status_cwd_and_environment(tmp_path: Path, runtime: str) -> None:
    result = run_in_busybox(tmp_path, ("sh", "-c", "pwd; echo $A; echo oops >&2; exit 7"),
                            runtime=runtime, cwd="/tmp", env=("A=b c",))
    assert result.status == 7
    assert result.stdout.splitlines() == ["/tmp", "b c"]
    assert result.stderr == "oops\n"


@RUNTIMES
def test_mount_points_and_etc_files_never_reach_the_layer(tmp_path: Path, runtime: str) -> None:
    script = "echo 10.0.0.1 evil >> /etc/hosts; echo x > /etc/resolv.conf; echo new > /new"
    result = run_in_busybox(tmp_path, ("sh", "-c", script), runtime=runtime)
    assert result.status == 0, result.stderr
    assert [(c.path, c.kind) for c in result.changes.changes] == [("new", Kind.ADD)]


@RUNTIMES
def test_no_container_or_bundle_remains(tmp_path: Path, runtime: str) -> None:
    run_in_busybox(tmp_path, ("true",), runtime=runtime)
    assert list((tmp_path / "store" / "containers").iterdir()) == []
    listed = subprocess.run([runtime, "list"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in listed


@RUNTIMES
@pytest.mark.parametrize("fd", [3, 7])
def test_workdir_through_proc_fd_fails_closed(tmp_path: Path, runtime: str, fd: int) -> None:
    # CVE-2024-21626: a leaked host fd as cwd would expose the host filesystem
    result = run_in_busybox(tmp_path, ("sh", "-c", "pwd -P; ls"), runtime=runtime,
                            cwd=f"/proc/self/fd/{fd}")
    assert result.status != 0
    assert result.stdout == ""


@pytest.mark.parametrize("network", ["host", "none"])
def test_etc_files_come_from_the_bundle(tmp_path: Path, network: str) -> None:
    script = "cat /etc/hostname; grep -c box2 /etc/hosts; cat /etc/resolv.conf"
    result = run_in_busybox(tmp_path, ("sh", "-c", script), hostname="box2", network=network)
    lines = result.stdout.splitlines()
    assert lines[:2] == ["box2", "1"]
    expected = Path("/etc/resolv.conf").read_text().splitlines() if network == "host" else []
    assert lines[2:] == expected
