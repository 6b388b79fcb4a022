from __future__ import annotations

import io
import json

from hoist.builder import events as ev
from hoist.cli.render import make_renderer

ID1 = "sha256:" + "8985045f8548" + "0" * 52
ID2 = "sha256:" + "1b2c3d4e5f60" + "0" * 52


def _step(n: int, text: str) -> ev.StepRef:
    # CMD is configuration only: BuildKit makes no vertex of it
    vertex = "" if text.startswith("CMD") else f"[{n}/2] {text}"
    return ev.StepRef(n, 3, "0", n, 3, text, n, vertex=vertex)


def _events() -> list[ev.Event]:
    s1, s2, s3 = _step(1, "FROM busybox"), _step(2, "RUN echo hi"), _step(3, 'CMD ["sh"]')
    return [
        ev.BuildStarted(3, ("0",)),
        ev.StepStarted(s1),
        ev.StepDone(s1, ID1, cached=False, seconds=0.0),
        ev.StepStarted(s2),
        ev.ContainerStarted(s2, "3a4b81250301" + "f" * 52),
        ev.StepOutput(s2, "stdout", b"hi\n"),
        ev.ContainerRemoved(s2, "3a4b81250301" + "f" * 52),
        ev.StepDone(s2, ID2, cached=False, seconds=0.1, miss_reason="build arg changed: V"),
        ev.StepStarted(s3),
        ev.StepCached(s3, ID2),
        ev.StepDone(s3, ID2, cached=True, seconds=0.0),
        ev.BuildDone(ID2, ("hello:latest",)),
    ]


def _render(mode: str, quiet: bool = False) -> str:
    out = io.StringIO()
    renderer = make_renderer(mode, out, quiet=quiet)
    for event in _events():
        renderer.emit(event)
    renderer.close()
    return out.getvalue()


def test_classic_shape() -> None:
    assert _render("classic").splitlines() == [
        "Step 1/3 : FROM busybox",
        " ---> 8985045f8548",
        "Step 2/3 : RUN echo hi",
        " ---> Running in 3a4b81250301",
        "hi",
        "Removing intermediate container 3a4b81250301",
        " ---> 1b2c3d4e5f60",
        'Step 3/3 : CMD ["sh"]',
        " ---> Using cache",
        " ---> 1b2c3d4e5f60",
        "Successfully built 1b2c3d4e5f60",
        "Successfully tagged hello:latest",
    ]


def test_plain_shape() -> None:
    text = _render("plain")
    assert "#1 [1/2] FROM busybox\n" in text
    assert "#2 [2/2] RUN echo hi\n" in text
    assert any(line.startswith("#2 ") and line.endswith(" hi") for line in text.splitlines())
    assert "#2 cache miss: build arg changed: V\n#2 DONE 0.1s" in text
    # no vertex for CMD, and the export vertex comes right after the last one shown
    assert "CMD" not in text and "#3 exporting to image\n" in text


def test_plain_shows_a_failed_configuration_step() -> None:
    env = ev.StepRef(2, 2, "0", 2, 2, "USER nobody:nogroup", 2)
    out = io.StringIO()
    renderer = make_renderer("plain", out)
    for event in [ev.StepStarted(env), ev.StepFailed(env, "unable to find group nogroup", 0.0)]:
        renderer.emit(event)
    assert out.getvalue().splitlines() == [
        "#1 USER nobody:nogroup",
        "#1 ERROR: unable to find group nogroup",
        "------",
        " > USER nobody:nogroup:",
        "------",
    ]


def test_json_lines_parse() -> None:
    lines = [json.loads(line) for line in _render("json").splitlines()]
    assert [line["event"] for line in lines][:3] == ["build-started", "step-started", "step-done"]
    output = next(line for line in lines if line["event"] == "step-output")
    assert output["data"] == "hi\n" and output["step"]["number"] == 2


def test_quiet_prints_only_the_id() -> None:
    assert _render("classic", quiet=True) == ID2 + "\n"


def test_tty_renders_without_a_terminal() -> None:
    text = _render("tty")
    assert "[2/2] RUN echo hi" in text and "CMD" not in text and "(2/2)" in text


def test_classic_prints_parallel_stages_in_step_order() -> None:
    a1 = ev.StepRef(1, 4, "a", 1, 2, "FROM busybox AS a", 1)
    a2 = ev.StepRef(2, 4, "a", 2, 2, "RUN echo a", 2)
    b1 = ev.StepRef(3, 4, "b", 1, 2, "FROM busybox AS b", 3)
    b2 = ev.StepRef(4, 4, "b", 2, 2, "RUN echo b", 4)
    out = io.StringIO()
    renderer = make_renderer("classic", out)
    for event in [
        ev.StepStarted(b1),
        ev.StepDone(b1, ID1, cached=False, seconds=0),
        ev.StepStarted(b2),
        ev.StepOutput(b2, "stdout", b"b\n"),
        ev.StepStarted(a1),
        ev.StepDone(a1, ID1, cached=False, seconds=0),
        ev.StepStarted(a2),
        ev.StepOutput(a2, "stdout", b"a\n"),
        ev.StepDone(b2, ID2, cached=False, seconds=0),
        ev.StepDone(a2, ID2, cached=False, seconds=0),
    ]:
        renderer.emit(event)
    renderer.close()
    steps = [
        line for line in out.getvalue().splitlines() if line.startswith("Step") or len(line) == 1
    ]
    assert steps == [
        "Step 1/4 : FROM busybox AS a",
        "Step 2/4 : RUN echo a",
        "a",
        "Step 3/4 : FROM busybox AS b",
        "Step 4/4 : RUN echo b",
        "b",
    ]


def _cached_events() -> list[ev.Event]:
    s1, s2 = _step(1, "FROM busybox"), _step(2, "RUN echo hi")
    return [
        ev.BuildStarted(2, ("0",)),
        ev.StepStarted(s1),
        ev.StepDone(s1, ID1, cached=False, seconds=0.0),
        ev.StepStarted(s2),
        ev.StepCached(s2, ID2),
        ev.StepDone(s2, ID2, cached=True, seconds=0.0),
        ev.BuildDone(ID2, ("hello:latest",)),
    ]


def test_tty_prints_a_build_with_no_work_once_as_text() -> None:
    out = io.StringIO()
    renderer = make_renderer("tty", out)
    for event in _cached_events():
        renderer.emit(event)
    renderer.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[+] Building ") and lines[0].endswith("(2/2)")
    assert " => CACHED [2/2] RUN echo hi  0.0s" in lines
    assert lines[-1] == "=> naming to hello:latest" and "\x1b" not in out.getvalue()


def test_tty_loads_rich_only_when_the_build_does_work() -> None:
    import subprocess
    import sys

    script = (
        "import io, sys\n"
        "from hoist.cli.render import make_renderer\n"
        "from tests.unit.cli import test_render as t\n"
        "r = make_renderer('tty', io.StringIO())\n"
        "for e in t._cached_events(): r.emit(e)\n"
        "r.close()\n"
        "cached = 'rich' in sys.modules\n"
        "r = make_renderer('tty', io.StringIO())\n"
        "for e in t._events(): r.emit(e)\n"
        "r.close()\n"
        "print(cached, 'rich' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    assert done.stdout.split() == ["False", "True"]
