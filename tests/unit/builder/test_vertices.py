"""BuildKit's vertex names, as docker 20.10's BuildKit printed them for the same Dockerfiles
(``--progress plain``, recorded by hand on this project's machine)."""

from __future__ import annotations

from hoist.builder.vertices import stage_vertices
from hoist.dockerfile import parse
from hoist.plan import plan_build


def _names(text: str) -> list[tuple[str, tuple[str, ...]]]:
    df = parse(text)
    plan = plan_build(df, build_args={})
    return [stage_vertices(p, len(df.stages) > 1) for p in plan.stages]


def test_configuration_steps_make_no_vertex_and_are_not_counted() -> None:
    text = ("FROM busybox:local\nARG A=1\nENV E=2\nWORKDIR /x\nLABEL l=1\nRUN echo hi\n"
            "EXPOSE 80\nCOPY cmd.sh .\nUSER 0\nCMD [\"sh\"]\n")
    [(first, rest)] = _names(text)
    assert first == "[1/4] FROM docker.io/library/busybox:local"
    assert [name for name in rest if name] == [
        "[2/4] WORKDIR /x", "[3/4] RUN echo hi", "[4/4] COPY cmd.sh ."]
    assert len(rest) == 9 and rest[0] == rest[1] == rest[3] == rest[-1] == ""


def test_from_scratch_makes_no_vertex() -> None:
    text = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install"]\n'
    assert _names(text) == [
        ("", ("[1/2] COPY busybox /bin/busybox", '[2/2] RUN ["/bin/busybox", "--install"]'))]


def test_workdir_root_is_counted_but_not_shown() -> None:
    text = "FROM busybox:local\nWORKDIR /\nWORKDIR /a\nADD cmd.sh /\nRUN true\n"
    [(first, rest)] = _names(text)
    assert first == "[1/5] FROM docker.io/library/busybox:local"
    assert rest == ("", "[2/5] WORKDIR /a", "[3/5] ADD cmd.sh /", "[4/5] RUN true")


def test_stages_are_named_and_a_stage_base_makes_no_vertex() -> None:
    text = "FROM busybox:local AS b\nRUN true\nENV X=1\nFROM b\nCOPY --from=b /bin/sh /x\n"
    assert _names(text) == [
        ("[b 1/2] FROM docker.io/library/busybox:local", ("[b 2/2] RUN true", "")),
        ("", ("[stage-1 1/1] COPY --from=b /bin/sh /x",)),
    ]
