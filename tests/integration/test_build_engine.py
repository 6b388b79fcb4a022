"""The build engine end to end, as root: real store, overlayfs, crun.

Each test writes a small context, builds it with ``hoist.build`` (or the CLI
in a subprocess) and asserts on the images, the cache and the output.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hoist
from hoist.builder.events import ListSink, StepOutput
from hoist.errors import BuildError, DockerfileError
from hoist.store import Store
from hoist.testing.cli import run_hoist as cli
from hoist.testing.cli import write_tree as write

pytestmark = pytest.mark.root


APP = {
    "Dockerfile": "FROM busybox:local\nWORKDIR /app\nCOPY dep.txt .\n"
    'RUN cat dep.txt > installed.txt\nCOPY . .\nCMD ["cat", "/app/src.txt"]\n',
    "dep.txt": "dep 1\n",
    "src.txt": "source 1\n",
}


def test_rebuild_takes_every_step_from_the_cache(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, APP)
    first = hoist.build(ctx, tags=["engine/app:1"], root=root)
    assert [s.cached for s in first.steps][1:] == [False] * 5
    again = hoist.build(ctx, tags=["engine/app:1"], root=root)
    assert again.image_id == first.image_id
    assert [s.cached for s in again.steps][1:] == [True] * 5
    run = cli(root, "run", "engine/app:1")
    assert (run.returncode, run.stdout) == (0, "source 1\n"), run.stderr


def test_an_edit_reruns_only_what_follows_it(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, APP)
    hoist.build(ctx, root=root)
    (ctx / "src.txt").write_text("source 2\n")
    os.utime(ctx / "dep.txt", (1, 1))  # a new mtime alone changes nothing
    result = hoist.build(ctx, tags=["engine/app:2"], root=root)
    assert [s.cached for s in result.steps][1:] == [True, True, True, False, False]
    assert result.steps[4].miss_reason == "source changed: src.txt"
    assert cli(root, "run", "engine/app:2").stdout == "source 2\n"


def test_a_miss_does_not_end_probing(root: Path, tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM busybox:local\nARG N\nRUN test -n "$N" && true\n'
        "RUN echo after > /after.txt\n"
    }
    ctx = write(tmp_path, files)
    hoist.build(ctx, build_args={"N": "1"}, root=root)
    hoist.build(ctx, build_args={"N": "2"}, root=root)
    again = hoist.build(ctx, build_args={"N": "1"}, root=root)
    assert all(s.cached for s in again.steps[1:])


def test_no_cache_runs_everything(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, APP)
    hoist.build(ctx, root=root)
    result = hoist.build(ctx, root=root, no_cache=True)
    assert not any(s.cached for s in result.steps)


def test_intermediate_images_are_kept_with_their_parents(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, APP)
    result = hoist.build(ctx, root=root)
    with Store.open(root) as store:
        chain = [store.get_image(s.image_id) for s in result.steps]
    for parent, child in itertools.pairwise(chain):
        assert child.parent == parent.id
    listing = cli(root, "images", "-a").stdout
    assert chain[2].id.short in listing


def test_a_failed_step_names_its_line_and_keeps_what_was_done(root: Path, tmp_path: Path) -> None:
    files = {"Dockerfile": "FROM busybox:local\nRUN echo done > /d\nRUN echo oops >&2; exit 3\n"}
    ctx = write(tmp_path, files)
    sink = ListSink()
    with pytest.raises(BuildError) as failure:
        hoist.build(ctx, tags=["engine/failed:1"], root=root, sink=sink)
    assert failure.value.message.startswith("Dockerfile:3: RUN:")
    assert failure.value.exit_status == 3
    assert failure.value.output_tail == ("oops",)
    assert any(isinstance(e, StepOutput) and e.data == b"oops\n" for e in sink.events)
    assert "engine/failed" not in cli(root, "images").stdout
    retry = ListSink()
    with pytest.raises(BuildError):
        hoist.build(ctx, root=root, sink=retry)
    cached = [type(e).__name__ for e in retry.events if type(e).__name__ == "StepCached"]
    assert cached == ["StepCached"], "the RUN before the failure is kept in the cache"


def test_cli_classic_output_shape(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, {"Dockerfile": "FROM busybox:local\nENV A=1\nRUN echo hi-$A\n"})
    first = cli(root, "build", "-t", "engine/out:1", str(ctx))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "Step 1/3 : FROM busybox:local"
    assert re.fullmatch(r" ---> [0-9a-f]{12}", lines[1])
    assert lines[2] == "Step 2/3 : ENV A=1"
    run = lines.index("Step 3/3 : RUN echo hi-$A")
    assert re.fullmatch(r" ---> Running in [0-9a-f]{12}", lines[run + 1])
    assert lines[run + 2] == "hi-1"
    assert lines[run + 3] == f"Removing intermediate container {lines[run + 1][-12:]}"
    assert re.fullmatch(r"Successfully built [0-9a-f]{12}", lines[-2])
    assert lines[-1] == "Successfully tagged engine/out:1"
    second = cli(root, "build", "-q", str(ctx))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", second.stdout)
    assert lines[-2].endswith(second.stdout[7:19])


def test_dockerfile_on_stdin_and_iidfile(root: Path, tmp_path: Path) -> None:
    iid = tmp_path / "iid"
    done = cli(
        root,
        "build",
        "--iidfile",
        str(iid),
        "-q",
        "-",
        stdin="FROM busybox:local\nLABEL from=stdin\n",
    )
    assert done.returncode == 0, done.stderr
    assert iid.read_text() == done.stdout.strip()


def test_multistage_builds_only_what_the_target_needs(root: Path, tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM busybox:local AS unused\nRUN exit 1\n"
        "FROM busybox:local AS build\nRUN echo built > /out\n"
        'FROM busybox:local\nCOPY --from=build /out /copied\nCMD ["cat", "/copied"]\n'
    }
    ctx = write(tmp_path, files)
    result = hoist.build(ctx, tags=["engine/multi:1"], root=root)
    assert {s.stage for s in result.steps} == {"build", "2"}
    assert cli(root, "run", "engine/multi:1").stdout == "built\n"


def test_errors_are_diagnostics_not_tracebacks(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, {"Dockerfile": "FROM busybox:local\nRUNN echo\n"})
    with pytest.raises(DockerfileError):
        hoist.build(ctx, root=root)
    done = cli(root, "build", str(ctx))
    assert done.returncode != 0
    assert "Dockerfile:2" in done.stderr and "RUNN" in done.stderr
    assert "Traceback" not in done.stderr
    missing = cli(root, "build", str(write(tmp_path / "m", {"Dockerfile": "FROM nope:1\n"})))
    assert "nope:1" in missing.stderr and "Traceback" not in missing.stderr


def test_build_checks_warn_and_can_fail_the_build(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, {"Dockerfile": "FROM busybox:local\nCMD echo hi\n"})
    checked = cli(root, "build", "--check", str(ctx))
    assert checked.returncode == 1
    assert "JSONArgsRecommended" in checked.stdout and "Step 1/" not in checked.stdout
    built = hoist.build(ctx, root=root)
    assert any("JSONArgsRecommended" in w for w in built.warnings)
    strict = write(
        tmp_path / "strict", {"Dockerfile": "# check=error=true\nFROM busybox:local\nCMD echo hi\n"}
    )
    with pytest.raises(DockerfileError, match="JSONArgsRecommended"):
        hoist.build(strict, root=root)


def test_run_heredocs(root: Path, tmp_path: Path) -> None:
    dockerfile = (
        "FROM busybox:local\n"
        "RUN <<EOF\necho plain > /plain.txt\nEOF\n"
        'RUN <<EOF\n#!/bin/sh\necho "script $0" > /script.txt\nEOF\n'
        "COPY <<EOF /copied.txt\nhello $HOME\nEOF\n"
        'CMD ["cat", "/plain.txt", "/script.txt", "/copied.txt"]\n'
    )
    ctx = write(tmp_path, {"Dockerfile": dockerfile})
    hoist.build(ctx, tags=["engine/heredoc:1"], root=root)
    done = cli(root, "run", "engine/heredoc:1")
    assert done.stdout == "plain\nscript /dev/pipes/EOF\nhello \n", done.stderr


def test_independent_stages_run_at_the_same_time(root: Path, tmp_path: Path) -> None:
    stages = "".join(
        f"FROM busybox:local AS s{i}\nRUN sleep 1 && echo {i} > /out{i}\n" for i in range(3)
    )
    final = "FROM busybox:local\n" + "".join(f"COPY --from=s{i} /out{i} /\n" for i in range(3))
    ctx = write(tmp_path, {"Dockerfile": stages + final})
    sink = ListSink()
    result = hoist.build(ctx, root=root, sink=sink, no_cache=True)
    names = [(type(e).__name__, e.step.number) for e in sink.events if hasattr(e, "step")]
    runs = [2, 4, 6]  # the RUN step of each stage
    first_done = min(names.index(("StepDone", n)) for n in runs)
    assert all(names.index(("StepStarted", n)) < first_done for n in runs), names
    assert [s.number for s in result.steps] == list(range(1, 11))
    out = cli(root, "run", result.image_id, "cat", "/out0", "/out1", "/out2")
    assert out.stdout == "0\n1\n2\n"


NOOP_PROBE = """
import sys, hoist
result = hoist.build(sys.argv[1], root=sys.argv[2], tags=["engine/noop:1"])
loaded = sorted(m for m in sys.modules if m.startswith(("hoist.dockerfile", "hoist.plan",
                                                         "hoist.runtime.oci", "hoist.layer")))
print(result.image_id, all(s.cached for s in result.steps[1:]), loaded)
"""


def test_a_noop_rebuild_is_replayed_without_loading_the_builder(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, APP)
    first = hoist.build(ctx, root=root, tags=["engine/noop:1"])
    probe = subprocess.run(
        [sys.executable, "-c", NOOP_PROBE, str(ctx), str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert probe.stdout.split(" ", 2) == [first.image_id, "True", "[]\n"], probe.stderr


def test_replay_notices_every_kind_of_change(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path, APP)
    first = hoist.build(ctx, root=root, tags=["engine/replay:1"])
    (ctx / "new.txt").write_text("new\n")  # a new file under COPY . .
    added = hoist.build(ctx, root=root, tags=["engine/replay:1"])
    assert added.image_id != first.image_id
    assert cli(root, "run", "engine/replay:1", "cat", "/app/new.txt").stdout == "new\n"
    (ctx / ".dockerignore").write_text("new.txt\n.dockerignore\n")  # an ignore file appears
    ignored = hoist.build(ctx, root=root, tags=["engine/replay:1"])
    assert ignored.image_id == first.image_id
    other = hoist.build(ctx, root=root, tags=["engine/replay:2"])  # a tag not yet there
    assert other.image_id == first.image_id
    assert re.search(r"engine/replay\s+2\s+" + other.image_id[7:19], cli(root, "images").stdout)


def test_replay_follows_a_moved_base_tag(root: Path, tmp_path: Path) -> None:
    base = write(tmp_path / "base", {"Dockerfile": "FROM busybox:local\nLABEL v=1\n"})
    hoist.build(base, root=root, tags=["engine/base:1"])
    ctx = write(tmp_path / "app", {"Dockerfile": "FROM engine/base:1\nRUN echo app > /app\n"})
    first = hoist.build(ctx, root=root)
    (base / "Dockerfile").write_text("FROM busybox:local\nLABEL v=2\n")
    moved = hoist.build(base, root=root, tags=["engine/base:1"])
    again = hoist.build(ctx, root=root)
    assert again.steps[0].image_id == moved.image_id != first.steps[0].image_id
    assert not again.steps[1].cached


def test_a_relative_store_root_works(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nRUN echo ok > /ok\n"})
    monkeypatch.chdir(root.parent)
    done = cli(Path(root.name), "build", "--no-cache", "-q", str(ctx))
    assert done.returncode == 0, done.stderr
