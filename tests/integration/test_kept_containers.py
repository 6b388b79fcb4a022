"""Kept intermediate containers, as root: ``--rm=false``, failed RUNs, ``ps``, ``shell``, ``rm``,
``prune``, and what recovery and GC do with them."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import hoist
from hoist.builder.events import ContainerKept, ContainerRemoved, ContainerStarted, ListSink
from hoist.errors import BuildError
from hoist.runtime.kept import kept_root, list_kept
from hoist.runtime.recovery import recover
from hoist.store import Store
from hoist.testing.busybox import busybox_store
from hoist.testing.cli import hoist_argv
from hoist.testing.cli import run_hoist as cli

pytestmark = pytest.mark.root

FAILING = (
    "FROM busybox:local\nENV A=1\nWORKDIR /w\nRUN echo before > /w/file\n"
    "USER nobody\nRUN echo written > /tmp/left; echo oops >&2; exit 3\n"
)
PASSING = "FROM busybox:local\nRUN echo one > /one\nENV B=2\nRUN echo two > /two\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return busybox_store(tmp_path)


def context(tmp_path: Path, text: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(text)
    return ctx


def kept_ids(root: Path) -> list[str]:
    with Store.open(root) as store:
        return [c.id for c in list_kept(store)]


def fail_build(root: Path, ctx: Path, **options: bool) -> BuildError:
    with pytest.raises(BuildError) as failure:
        hoist.build(ctx, root=root, **options)  # type: ignore[arg-type]
    return failure.value


def test_rm_false_keeps_every_run_container_and_ps_lists_them(root: Path, tmp_path: Path) -> None:
    sink = ListSink()
    hoist.build(context(tmp_path, PASSING), root=root, sink=sink, remove_containers=False)
    started = [e.container_id for e in sink.events if isinstance(e, ContainerStarted)]
    kept = [e.container_id for e in sink.events if isinstance(e, ContainerKept)]
    removed = [e.container_id for e in sink.events if isinstance(e, ContainerRemoved)]
    assert len(kept) == 2 and set(kept) <= set(started) and not set(kept) & set(removed)
    assert sorted(kept_ids(root)) == sorted(kept)
    assert cli(root, "ps").stdout.splitlines() == [
        "CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS"]
    listing = cli(root, "ps", "-a").stdout.splitlines()
    assert listing[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS"]
    assert len(listing) == 3
    assert all(re.match(r"[0-9a-f]{12}   ", line) for line in listing[1:])
    assert all(re.search(r"Exited \(0\) .* ago$", line) for line in listing[1:])
    assert '"/bin/sh -c echo two…"' in listing[1]  # newest first, docker's 20-char COMMAND
    assert sorted(cli(root, "ps", "-aq").stdout.split()) == sorted(c[:12] for c in kept)
    shown = cli(root, "shell", kept[1][:12], "sh", "-c", "cat /one /two; echo $B")
    assert shown.stdout == "one\ntwo\n2\n", shown.stderr


def test_classic_output_with_rm_false_has_no_removing_line_at_all(
    root: Path, tmp_path: Path
) -> None:
    ctx = context(tmp_path, "FROM busybox:local\nWORKDIR /x\nRUN echo hi\n")
    done = cli(root, "build", "--rm=false", str(ctx))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    run = lines.index("Step 3/3 : RUN echo hi")
    assert re.fullmatch(r" ---> Running in [0-9a-f]{12}", lines[run + 1])
    assert lines[run + 2] == "hi"
    assert re.fullmatch(r" ---> [0-9a-f]{12}", lines[run + 3])
    # none for WORKDIR either (its container never existed), as docker's --rm=false
    assert lines[lines.index("Step 2/3 : WORKDIR /x") + 2].startswith(" ---> ")
    assert "Removing intermediate container" not in done.stdout
    assert kept_ids(root)[0][:12] == lines[run + 1][-12:]


def test_a_failed_run_is_kept_and_a_shell_sees_its_files(root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, FAILING)
    error = fail_build(root, ctx)
    (cid,) = kept_ids(root)
    assert error.hint == (f"the failed step's container is kept: hoist shell {cid[:12]}"
                          f"  (remove it: hoist rm {cid[:12]})")  # fmt: skip
    shown = cli(root, "shell", cid[:12], "cat", "/tmp/left", "/w/file")
    assert (shown.returncode, shown.stdout) == (0, "written\nbefore\n"), shown.stderr
    where = cli(root, "shell", cid[:5], "sh", "-c", "pwd; echo $A; id -u; hostname")
    assert where.stdout == f"/w\n1\n65534\n{cid[:12]}\n", where.stderr
    status = cli(root, "shell", cid, stdin="echo changed > /tmp/left; exit 7\n")
    assert status.returncode == 7, status.stderr  # /bin/sh read its commands from hoist's stdin
    again = cli(root, "shell", cid, "cat", "/tmp/left")
    assert again.stdout == "written\n", "a shell works on a throw-away snapshot"
    assert list((root / "snapshots").iterdir()) == []
    assert list((root / "containers").iterdir()) == []


def test_the_cli_error_ends_with_the_hint(root: Path, tmp_path: Path) -> None:
    done = cli(root, "build", str(context(tmp_path, FAILING)))
    assert done.returncode == 3  # the RUN's status, as the classic docker CLI
    short = kept_ids(root)[0][:12]
    assert done.stderr.splitlines()[-1] == (
        f"hint: the failed step's container is kept: hoist shell {short}"
        f"  (remove it: hoist rm {short})")
    assert f" ---> Running in {short}" in done.stdout
    assert "Removing intermediate container " + short not in done.stdout


def test_force_rm_removes_a_failed_runs_container(root: Path, tmp_path: Path) -> None:
    error = fail_build(root, context(tmp_path, FAILING), force_remove=True)
    assert error.hint is None
    error = fail_build(root, context(tmp_path, FAILING), force_remove=True,
                       remove_containers=False)  # fmt: skip
    assert kept_ids(root) == []
    assert cli(root, "build", "--force-rm", "--rm=false", str(tmp_path / "ctx")).returncode == 3
    assert kept_ids(root) == [] and list((root / "snapshots").iterdir()) == []


def test_rm_removes_the_container_its_dir_and_its_hold(root: Path, tmp_path: Path) -> None:
    fail_build(root, context(tmp_path, FAILING))
    (cid,) = kept_ids(root)
    assert (kept_root(root) / cid / "upper").is_dir()
    done = cli(root, "rm", cid[:8], "0000nothere")
    assert done.returncode == 1 and done.stdout == f"{cid[:8]}\n"
    assert "0000nothere: no such container" in done.stderr
    assert list(kept_root(root).iterdir()) == []
    with Store.open(root) as store:
        assert store.tables.holds() == []
    assert cli(root, "shell", cid[:12], "true").returncode != 0


def test_recovery_does_not_delete_kept_containers(root: Path, tmp_path: Path) -> None:
    fail_build(root, context(tmp_path, FAILING))
    (cid,) = kept_ids(root)
    recover(root)
    assert kept_ids(root) == [cid]
    assert cli(root, "shell", cid, "cat", "/tmp/left").stdout == "written\n"


def test_held_images_survive_image_prune_and_rmi(root: Path, tmp_path: Path) -> None:
    fail_build(root, context(tmp_path, FAILING))
    (cid,) = kept_ids(root)
    with Store.open(root) as store:
        (container,) = list_kept(store)
        parent = store.get_image(container.image_id)
    assert cli(root, "prune", "--keep-containers").returncode == 0
    refused = cli(root, "rmi", "-f", parent.id.short)
    assert refused.returncode == 1 and f"used by kept container {cid[:12]}" in refused.stderr
    assert cli(root, "shell", cid, "cat", "/w/file").stdout == "before\n"
    assert cli(root, "fsck").returncode == 0


def test_prune_removes_kept_containers_then_gc_collects(root: Path, tmp_path: Path) -> None:
    with Store.open(root) as store:
        base = {d.hex for d in store.get_image("busybox:local").image.diff_ids}
    fail_build(root, context(tmp_path, FAILING))
    (cid,) = kept_ids(root)
    assert {p.name for p in (root / "layers").iterdir()} > base  # the RUN before the failure
    done = cli(root, "prune")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Deleted Containers:\n{cid}\n\nDeleted Images:\n")
    assert kept_ids(root) == [] and list(kept_root(root).iterdir()) == []
    assert {p.name for p in (root / "layers").iterdir()} == base
    with Store.open(root) as store:
        assert store.tables.holds() == []
        assert [str(s.tags[0]) for s in store.list_images(include_intermediate=True)] == [
            "docker.io/library/busybox:local"]
    assert cli(root, "fsck").returncode == 0


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a pty")
def test_a_shell_on_a_terminal_gets_a_pty_of_its_own(root: Path, tmp_path: Path) -> None:
    fail_build(root, context(tmp_path, FAILING))
    (cid,) = kept_ids(root)
    hoist_cmd = shlex.join(hoist_argv(root, "shell", cid))
    typed = "tty; echo TERM=$TERM; exit 5\n"
    done = subprocess.run(["script", "-qec", hoist_cmd, "/dev/null"], capture_output=True,
                          text=True, timeout=60, input=typed)  # fmt: skip
    assert done.returncode == 5, done.stdout
    assert re.search(r"^/dev/pts/\d+\r?$", done.stdout, re.M), done.stdout
    assert "TERM=xterm" in done.stdout


def test_a_container_hoist_killed_is_not_kept(root: Path, tmp_path: Path) -> None:
    text = ("FROM busybox:local AS fails\nRUN sleep 1; exit 3\n"
            "FROM busybox:local AS killed\nRUN sleep 60\n"
            "FROM busybox:local\nCOPY --from=fails /bin/busybox /a\n"
            "COPY --from=killed /bin/busybox /b\n")  # fmt: skip
    started = time.monotonic()
    error = fail_build(root, context(tmp_path, text))
    assert time.monotonic() - started < 30
    assert error.exit_status == 3
    with Store.open(root) as store:
        kept = list_kept(store)
    assert [(c.instruction, c.exit_status) for c in kept] == [("RUN sleep 1; exit 3", 3)]
    assert list((root / "snapshots").iterdir()) == []
