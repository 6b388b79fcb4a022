"""``hoist build`` as a docker 20.10 user sees it: the findings of the issue-5 audit.

Each expected output below was taken from docker 20.10 (classic builder,
``DOCKER_BUILDKIT=0``, or BuildKit's plain progress) on the same Dockerfile.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import hoist
from hoist.errors import BuildError
from hoist.store import Store
from hoist.testing.cli import run_hoist as cli
from hoist.testing.cli import write_tree as write

pytestmark = pytest.mark.root

ID_LINE = re.compile(r" ---> [0-9a-f]{12}")
FAILS = "FROM busybox:local\nRUN echo l1; echo l2; exit 3\n"


def _image(root: Path, ref: str) -> object:
    with Store.open(root) as store:
        return store.get_image(ref).image


def test_an_unwritable_iidfile_is_a_clean_error_after_tagging(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nENV IID=1\n"})
    for where in ("/proc/nope/iid", str(tmp_path)):
        done = cli(root, "build", "--iidfile", where, "-t", "iidbad", str(ctx))
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines() == [f"hoist: error: writing the image ID to {where}: "
                                            + ("No such file or directory" if "nope" in where
                                               else "Is a directory")]  # fmt: skip
        assert "Successfully tagged iidbad:latest" in done.stdout  # docker's order: tag, then file
    assert cli(root, "inspect", "iidbad").returncode == 0


def test_each_label_is_a_classic_step_with_its_image_and_no_history(
    root: Path, tmp_path: Path
) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nRUN echo hi\n"})
    labels = ("--label", "sp=a b", "--label", "k=v", "--label", "novalue")
    done = cli(root, "build", *labels, "-t", "lbl", str(ctx))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    steps = [line for line in lines if line.startswith("Step ")]
    assert steps == ["Step 1/5 : FROM busybox:local", "Step 2/5 : RUN echo hi",
                     "Step 3/5 : LABEL k=v", "Step 4/5 : LABEL novalue=",
                     "Step 5/5 : LABEL sp=a b"]  # fmt: skip
    label_step = lines[lines.index("Step 3/5 : LABEL k=v") :][:4]
    assert re.fullmatch(r" ---> Running in [0-9a-f]{12}", label_step[1])
    assert label_step[2] == f"Removing intermediate container {label_step[1][-12:]}"
    assert ID_LINE.fullmatch(label_step[3])
    ids = [line[6:] for line in lines if ID_LINE.fullmatch(line)]
    assert len(set(ids)) == 5 and lines[-2] == f"Successfully built {ids[-1]}"
    image = _image(root, "lbl")
    assert image.config.config.labels == {"k": "v", "novalue": "", "sp": "a b"}  # type: ignore[attr-defined]
    assert [h.created_by for h in image.config.history][-1] == "RUN /bin/sh -c echo hi # buildkit"  # type: ignore[attr-defined]
    again = cli(root, "build", *labels, "-t", "lbl", str(ctx)).stdout.splitlines()
    assert again.count(" ---> Using cache") == 4 and again[-2] == lines[-2]


def test_label_steps_are_not_dockerfile_steps_of_the_result(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nENV L=1\n"})
    for _ in range(2):  # a full build, then its replay
        result = hoist.build(ctx, root=root, labels={"a": "1", "b": "2"}, tags=["lbl2"])
        assert [s.instruction for s in result.steps] == ["FROM busybox:local", "ENV L=1"]
        assert _image(root, result.image_id).config.config.labels == {"a": "1", "b": "2"}  # type: ignore[attr-defined]


def test_dockerfile_on_stdin_with_a_directory_context(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"f.txt": "from the context\n"})
    dockerfile = "FROM busybox:local\nCOPY f.txt /\nRUN cat /f.txt\n"
    for flag in (["-f", "-"], ["-f-"]):
        done = cli(root, "build", *flag, "-t", "stdin-df", str(ctx), stdin=dockerfile)
        assert done.returncode == 0, done.stderr
    assert cli(root, "run", "stdin-df", "cat", "/f.txt").stdout == "from the context\n"


def test_a_context_archive_on_stdin_is_refused_clearly(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\n"})
    archive = subprocess.run(["tar", "-c", "-C", str(ctx), "."], capture_output=True, check=True)
    done = cli(root, "build", "-", stdin=archive.stdout.decode("latin-1"))
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        "hoist: error: reading the build context from stdin: "
        "a context archive on stdin is not supported"
    )


@pytest.mark.parametrize("mode", [["--progress", "classic"], ["--progress", "plain"],
                                  ["--progress", "json"], ["-q"]])  # fmt: skip
def test_a_failed_run_ends_hoist_with_its_exit_status(root: Path, mode: list[str]) -> None:
    done = cli(root, "build", "--force-rm", *mode, "-", stdin=FAILS)
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "hoist: error: Dockerfile:2: RUN: The command '/bin/sh -c echo l1; echo l2; exit 3' "
        "returned a non-zero code: 3"
    )


def test_the_build_error_carries_the_status_and_the_last_lines(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": FAILS})
    with pytest.raises(BuildError) as failure:
        hoist.build(ctx, root=root, force_remove=True)
    assert failure.value.exit_status == 3
    assert failure.value.output_tail[-2:] == ("l1", "l2")


def test_plain_progress_reads_as_buildkit(root: Path) -> None:
    failed = cli(root, "build", "--force-rm", "--progress", "plain", "-", stdin=FAILS)
    command = "/bin/sh -c echo l1; echo l2; exit 3"
    block = "------\n > [2/2] RUN echo l1; echo l2; exit 3:\n------\n"
    assert f"#2 ERROR: executor failed running [{command}]: exit code: 3\n{block}" in failed.stdout
    done = cli(root, "build", "--progress", "plain", "-t", "plain1", "-",
               stdin="FROM busybox:local\nRUN true\n")  # fmt: skip
    tail = done.stdout.splitlines()[-4:]
    assert tail[0] == "#3 exporting to image"
    assert re.fullmatch(r"#3 writing image sha256:[0-9a-f]{64} done", tail[1])
    assert tail[2:] == ["#3 naming to docker.io/library/plain1:latest done", "#3 DONE 0.0s"]


def test_from_scratch_shows_no_image_id(root: Path) -> None:
    done = cli(root, "build", "-", stdin="FROM scratch\nLABEL a=b\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["Step 1/2 : FROM scratch", " ---> "]


def test_onbuild_triggers_are_announced_after_the_from_line(root: Path) -> None:
    parent = "FROM busybox:local\nONBUILD RUN echo t1\nONBUILD RUN echo t2\n"
    assert cli(root, "build", "-q", "-t", "ob-parent", "-", stdin=parent).returncode == 0
    for _ in range(2):  # a full build, then its replay
        done = cli(root, "build", "-", stdin="FROM ob-parent\nRUN echo x\n")
        assert done.stdout.splitlines()[:2] == ["Step 1/2 : FROM ob-parent",
                                                "# Executing 2 build triggers"]  # fmt: skip


def test_the_unconsumed_build_arg_warning_ends_the_classic_output(root: Path) -> None:
    done = cli(root, "build", "--build-arg", "NOTDECL=1", "-", stdin="FROM busybox:local\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "[Warning] One or more build-args [NOTDECL] were not consumed",
        done.stdout.splitlines()[-1],
    ]
    assert done.stdout.splitlines()[-1].startswith("Successfully built ")
    assert "NOTDECL" not in done.stderr


def test_no_cache_says_the_cache_was_disabled(root: Path, tmp_path: Path) -> None:
    ctx = write(tmp_path / "ctx", {"Dockerfile": "FROM busybox:local\nARG A\nRUN echo $A\n"})
    hoist.build(ctx, root=root, build_args={"A": "1"})
    result = hoist.build(ctx, root=root, build_args={"A": "2"}, no_cache=True)
    reasons = [step.miss_reason for step in result.steps[1:]]
    assert reasons == ["cache disabled (--no-cache)"] * 2
    done = cli(root, "build", "--no-cache", "--progress", "json", str(ctx))
    misses = [json.loads(line) for line in done.stdout.splitlines()]
    assert {e["miss_reason"] for e in misses if e["event"] == "step-done" and not e["cached"]
            and e["step"]["stage_position"] > 1} == {"cache disabled (--no-cache)"}  # fmt: skip
