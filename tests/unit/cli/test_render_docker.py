"""The classic and plain views against docker 20.10's own output (issue-5 audit findings)."""

from __future__ import annotations

import io
import re

from hoist.builder import events as ev
from hoist.cli.render import make_renderer

ID1 = "sha256:" + "8985045f8548" + "0" * 52
ID2 = "sha256:" + "1b2c3d4e5f60" + "0" * 52
ID3 = "sha256:" + "aaaabbbbcccc" + "0" * 52
CID = "3a4b81250301" + "f" * 52
UNCONSUMED = "One or more build-args [NOTDECL] were not consumed"


def _render(mode: str, events: list[ev.Event], **options: bool) -> str:
    out = io.StringIO()
    renderer = make_renderer(mode, out, **options)
    for event in events:
        renderer.emit(event)
    renderer.close()
    return out.getvalue()


def _config_step(ref: ev.StepRef, image_id: str) -> list[ev.Event]:
    """A step that runs nothing (LABEL, ENV…), as the engine reports it."""
    return [
        ev.StepStarted(ref),
        ev.ContainerStarted(ref, CID),
        ev.ContainerRemoved(ref, CID),
        ev.StepDone(ref, image_id, cached=False, seconds=0.0),
    ]


def test_from_scratch_shows_the_arrow_alone() -> None:
    s1 = ev.StepRef(1, 2, "0", 1, 2, "FROM scratch", 1)
    s2 = ev.StepRef(2, 2, "0", 2, 2, "LABEL a=b", 2)
    events = [ev.StepStarted(s1), ev.StepDone(s1, ID1, cached=False, seconds=0.0)]
    events += [*_config_step(s2, ID2), ev.BuildDone(ID2)]
    assert _render("classic", events).splitlines() == [
        "Step 1/2 : FROM scratch",
        " ---> ",
        "Step 2/2 : LABEL a=b",
        " ---> Running in 3a4b81250301",
        "Removing intermediate container 3a4b81250301",
        " ---> 1b2c3d4e5f60",
        "Successfully built 1b2c3d4e5f60",
    ]


def test_from_scratch_with_a_platform_and_a_name_still_shows_no_id() -> None:
    s1 = ev.StepRef(1, 1, "base", 1, 1, "FROM --platform=linux/amd64 SCRATCH AS base", 1)
    events = [ev.StepStarted(s1), ev.StepDone(s1, ID1, cached=False, seconds=0.0)]
    assert _render("classic", events).splitlines()[1] == " ---> "


def test_a_from_step_running_triggers_says_how_many() -> None:
    for count, line in ((2, "# Executing 2 build triggers"), (1, "# Executing 1 build trigger")):
        s1 = ev.StepRef(1, 1, "0", 1, 1, "FROM parent", 1, triggers=count)
        events = [ev.StepStarted(s1), ev.ContainerStarted(s1, CID)]
        lines = _render("classic", events).splitlines()
        assert lines == ["Step 1/1 : FROM parent", line, " ---> Running in 3a4b81250301"]


def test_cached_triggers_each_say_using_cache() -> None:
    s1 = ev.StepRef(1, 1, "0", 1, 1, "FROM parent", 1, triggers=2)
    events = [ev.StepStarted(s1), ev.StepCached(s1, ID1)]
    events += [ev.StepDone(s1, ID1, cached=True, seconds=0.0)]
    assert _render("classic", events).splitlines() == [
        "Step 1/1 : FROM parent",
        "# Executing 2 build triggers",
        " ---> Using cache",
        " ---> Using cache",
        " ---> 8985045f8548",
    ]


def test_rm_false_prints_no_removing_line_even_for_steps_that_run_nothing() -> None:
    s1 = ev.StepRef(1, 1, "0", 1, 2, "ENV A=1", 1)
    events = [*_config_step(s1, ID1), ev.BuildDone(ID1)]
    assert "Removing intermediate container" in _render("classic", events)
    assert _render("classic", events, remove=False).splitlines() == [
        "Step 1/1 : ENV A=1",
        " ---> Running in 3a4b81250301",
        " ---> 8985045f8548",
        "Successfully built 8985045f8548",
    ]


def test_the_unconsumed_build_arg_warning_comes_just_before_successfully_built() -> None:
    s1 = ev.StepRef(1, 1, "0", 1, 1, "FROM busybox", 1)
    events: list[ev.Event] = [
        ev.BuildWarning(UNCONSUMED),
        ev.StepStarted(s1),
        ev.StepDone(s1, ID1, cached=False, seconds=0.0),
        ev.BuildDone(ID1, ("a:latest",)),
    ]
    assert _render("classic", events).splitlines()[-3:] == [
        f"[Warning] {UNCONSUMED}",
        "Successfully built 8985045f8548",
        "Successfully tagged a:latest",
    ]
    assert f"WARN: {UNCONSUMED}" in _render("plain", events)  # the others keep theirs


def _label_build() -> list[ev.Event]:
    s1 = ev.StepRef(1, 3, "0", 1, 1, "FROM busybox", 1, vertex="[1/1] FROM busybox")
    l1 = ev.StepRef(2, 3, "0", 2, 3, "LABEL k=v", 0, cli_label=True)
    l2 = ev.StepRef(3, 3, "0", 3, 3, "LABEL sp=a b", 0, cli_label=True)
    events = [ev.BuildStarted(3, ("0",)), ev.StepStarted(s1)]
    events += [ev.StepDone(s1, ID1, cached=False, seconds=0.0)]
    return [*events, *_config_step(l1, ID2), *_config_step(l2, ID3), ev.BuildDone(ID3)]


def test_label_steps_show_in_the_classic_view_only() -> None:
    classic = _render("classic", _label_build()).splitlines()
    assert classic[2:] == [
        "Step 2/3 : LABEL k=v",
        " ---> Running in 3a4b81250301",
        "Removing intermediate container 3a4b81250301",
        " ---> 1b2c3d4e5f60",
        "Step 3/3 : LABEL sp=a b",
        " ---> Running in 3a4b81250301",
        "Removing intermediate container 3a4b81250301",
        " ---> aaaabbbbcccc",
        "Successfully built aaaabbbbcccc",
    ]
    plain = _render("plain", _label_build())
    assert "LABEL" not in plain and "#2 exporting to image\n" in plain
    tty = _render("tty", _label_build())
    assert "LABEL" not in tty and "(1/1)" in tty


def test_plain_export_is_a_numbered_vertex_with_a_done_line() -> None:
    s1 = ev.StepRef(1, 2, "0", 1, 2, "FROM busybox", 1, vertex="[1/2] FROM busybox")
    s2 = ev.StepRef(2, 2, "0", 2, 2, "RUN true", 2, vertex="[2/2] RUN true")
    events: list[ev.Event] = [
        ev.StepStarted(s1),
        ev.StepDone(s1, ID1, cached=False, seconds=0.0),
        ev.StepStarted(s2),
        ev.StepCached(s2, ID2),
        ev.StepDone(s2, ID2, cached=True, seconds=0.0),
        ev.BuildDone(ID2, ("c1:latest", "reg.example/x/y:2")),
    ]
    tail = _render("plain", events).split("#2 CACHED\n\n")[1]
    assert tail.splitlines() == [
        "#3 exporting to image",
        f"#3 writing image {ID2} done",
        "#3 naming to docker.io/library/c1:latest done",
        "#3 naming to reg.example/x/y:2 done",
        "#3 DONE 0.0s",
    ]


def test_plain_failure_reads_as_buildkit() -> None:
    s2 = ev.StepRef(2, 2, "0", 2, 2, "RUN echo l1; exit 3", 2, vertex="[2/2] RUN echo l1; exit 3")
    message = "The command '/bin/sh -c echo l1; exit 3' returned a non-zero code: 3"
    events: list[ev.Event] = [
        ev.StepStarted(s2),
        ev.StepOutput(s2, "stdout", b"l1\n"),
        ev.StepFailed(s2, message, 0.1),
    ]
    lines = _render("plain", events).splitlines()
    assert lines[0] == "#1 [2/2] RUN echo l1; exit 3"
    assert re.fullmatch(r"#1 \d+\.\d{3} l1", lines[1])
    assert lines[2:] == [
        "#1 ERROR: executor failed running [/bin/sh -c echo l1; exit 3]: exit code: 3",
        "------",
        " > [2/2] RUN echo l1; exit 3:",
        "------",
    ]


def test_plain_failure_of_another_kind_keeps_its_message() -> None:
    s2 = ev.StepRef(2, 2, "0", 2, 2, "COPY x /", 2, vertex="[2/2] COPY x /")
    events: list[ev.Event] = [ev.StepStarted(s2), ev.StepFailed(s2, "x: not found", 0.0)]
    assert "#1 ERROR: x: not found\n" in _render("plain", events)
