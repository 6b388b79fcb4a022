"""``hoist run`` end to end: a real store, a busybox image, crun and runc."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.testing.cli import run_hoist as hoist

pytestmark = pytest.mark.root


def test_echo_hi_prints_hi(root: Path) -> None:
    done = hoist(root, "run", "busybox:local", "echo", "hi")
    assert (done.returncode, done.stdout) == (0, "hi\n"), done.stderr


def test_exit_code_is_the_containers(root: Path) -> None:
    done = hoist(root, "run", "--rm", "busybox:local", "sh", "-c", "echo out; exit 5")
    assert (done.returncode, done.stdout) == (5, "out\n")


@pytest.mark.parametrize("runtime", ["crun", "runc"])
def test_options_reach_the_container(root: Path, runtime: str) -> None:
    script = "id -u; id -g; pwd; echo $A; echo $HOME; grep -c : /proc/net/dev"
    done = hoist(root, "run", "--runtime", runtime, "-u", "nobody", "-w", "/x/y",
                 "-e", "A=1 2", "--network", "none", "busybox:local", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["65534", "65534", "/x/y", "1 2", "/nonexistent", "1", ""]


def test_entrypoint_override(root: Path) -> None:
    done = hoist(root, "run", "--entrypoint", "echo", "busybox:local", "from", "entry")
    assert (done.returncode, done.stdout) == (0, "from entry\n")


def test_default_cmd_of_the_image_runs(root: Path) -> None:
    # the image's CMD is ["sh"]; with stdin at /dev/null it exits 0 at once
    done = hoist(root, "run", "busybox:local")
    assert done.returncode == 0, done.stderr


def test_layers_are_unpacked_once_and_shared(root: Path) -> None:
    hoist(root, "run", "busybox:local", "true")
    layers = [p for p in (root / "layers").iterdir() if not p.name.startswith(".")]
    inodes = {p: p.stat().st_ino for p in layers}
    assert len(layers) == 1
    hoist(root, "run", "busybox:local", "true")
    assert {p: p.stat().st_ino for p in layers} == inodes


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("no-such-image", "true"), 1, "no such image"),
        (("-u", "ghost", "busybox:local", "true"), 2, "no such user"),
        (("-w", "rel", "busybox:local", "true"), 2, "not absolute"),
        (("busybox:local", "/no/such/binary"), None, ""),
    ],
)
def test_errors_are_diagnostics_not_tracebacks(
    root: Path, args: tuple[str, ...], code: int | None, message: str
) -> None:
    done = hoist(root, "run", *args)
    assert done.returncode != 0
    if code is not None:
        assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert list((root / "snapshots").iterdir()) == []


def test_copy_snapshotter_can_be_forced(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOIST_SNAPSHOTTER", "copy")
    done = hoist(root, "run", "busybox:local", "sh", "-c",
                 "echo hi > /f && cat /f && grep -c ' / overlay ' /proc/self/mounts")
    assert (done.returncode, done.stdout) == (1, "hi\n0\n"), done.stderr  # grep -c: 0 → 1


@pytest.mark.parametrize("runtime", ["crun", "runc"])
def test_host_network_is_the_default(root: Path, runtime: str) -> None:
    done = hoist(root, "run", "--runtime", runtime, "busybox:local", "cat", "/proc/net/dev")
    inside = {ln.split(":")[0].strip() for ln in done.stdout.splitlines() if ":" in ln}
    host = {ln.split(":")[0].strip() for ln in Path("/proc/net/dev").read_text().splitlines()
            if ":" in ln}
    assert done.returncode == 0, done.stderr
    assert inside == host
