"""Stage planning: names, FROM <stage>, COPY --from, --target pruning, errors (issue 3, item 5)."""

from __future__ import annotations

import pytest

from hoist.dockerfile import parse
from hoist.errors import DockerfileError
from hoist.plan import plan_build

MULTI = """\
ARG BASE=busybox
FROM ${BASE}:1 AS Build
RUN make
FROM build AS test
RUN test
FROM alpine AS unrelated
FROM scratch AS final
COPY --from=BUILD /out /
COPY --from=0 /x /y
COPY --from=registry.example.com/tools:2 /t /t
RUN --mount=type=bind,from=test,target=/t true
"""


def _indices(text: str, **kwargs: object) -> list[int]:
    return [p.index for p in plan_build(parse(text), **kwargs).stages]  # type: ignore[arg-type]


def test_only_needed_stages_are_planned_dependencies_first() -> None:
    plan = plan_build(parse(MULTI))
    assert [p.index for p in plan.stages] == [0, 1, 3]
    final = plan.stages[-1]
    assert final.base == "scratch" and final.base_stage is None
    assert final.images == ("registry.example.com/tools:2",)
    assert sorted({d.stage for d in final.depends_on}) == [0, 1]
    assert plan.stages[0].base == "busybox:1"
    assert plan.stages[1].base_stage == 0


def test_target_is_case_insensitive_and_prunes() -> None:
    assert _indices(MULTI, target="TEST") == [0, 1]
    assert _indices(MULTI, target="unrelated") == [2]


def test_build_arg_changes_from_line() -> None:
    plan = plan_build(parse(MULTI), target="build", build_args={"BASE": "debian"})
    assert plan.stages[0].base == "debian:1"


def test_unknown_target() -> None:
    with pytest.raises(DockerfileError) as info:
        plan_build(parse(MULTI), target="nope")
    assert info.value.code == "unknown-target"
    assert "build" in (info.value.hint or "")


def test_copy_from_bad_reference_names_the_line() -> None:
    text = "FROM busybox AS a\nFROM busybox\nCOPY --from=NotAStage /a /b\n"
    with pytest.raises(DockerfileError) as info:
        plan_build(parse(text))
    assert (info.value.code, info.value.line) == ("unknown-stage", 3)


def test_copy_from_index_out_of_range() -> None:
    with pytest.raises(DockerfileError) as info:
        plan_build(parse("FROM busybox\nCOPY --from=5 /a /b\n"))
    assert (info.value.code, info.value.line) == ("unknown-stage", 2)


def test_cycle_through_copy_from_is_rejected_with_its_line() -> None:
    text = "FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n"
    with pytest.raises(DockerfileError) as info:
        plan_build(parse(text), target="a")
    assert info.value.code == "stage-cycle"
    assert info.value.line in (2, 4)


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(DockerfileError) as info:
        plan_build(parse("FROM busybox AS a\nCOPY --from=a /x /x\n"))
    assert (info.value.code, info.value.line) == ("stage-cycle", 2)


def test_from_sees_only_earlier_stages() -> None:
    plan = plan_build(parse("FROM a AS a\n"))
    assert (plan.stages[0].base, plan.stages[0].base_stage) == ("a", None)
    plan = plan_build(parse("FROM later AS first\nFROM busybox AS later\n"), target="first")
    assert [p.index for p in plan.stages] == [0]
    assert plan.stages[0].base_stage is None


def test_cycle_anywhere_in_the_file_is_rejected() -> None:
    text = ("FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n"
            "FROM busybox AS c\n")
    with pytest.raises(DockerfileError) as info:
        plan_build(parse(text), target="c")
    assert info.value.code == "stage-cycle"


def test_errors_in_stages_the_target_does_not_need_are_ignored() -> None:
    text = "FROM busybox AS bad\nCOPY --from=Not:Valid:Ref a b\nFROM busybox AS ok\n"
    assert [p.index for p in plan_build(parse(text), target="ok").stages] == [1]
    with pytest.raises(DockerfileError):
        plan_build(parse(text), target="bad")


def test_duplicate_stage_names() -> None:
    with pytest.raises(DockerfileError) as info:
        plan_build(parse("FROM busybox AS a\nFROM busybox AS A\n"))
    assert (info.value.code, info.value.line) == ("duplicate-stage-name", 2)


def test_copy_from_expands_stage_args() -> None:
    text = "FROM busybox AS src\nFROM busybox\nARG FROMSTAGE=src\nCOPY --from=$FROMSTAGE /a /a\n"
    plan = plan_build(parse(text))
    assert [p.index for p in plan.stages] == [0, 1]


def test_empty_base_after_expansion() -> None:
    with pytest.raises(DockerfileError) as info:
        plan_build(parse("ARG IMG\nFROM $IMG\n"))
    assert (info.value.code, info.value.line) == ("invalid-base", 2)


def test_invalid_image_reference_in_from() -> None:
    with pytest.raises(DockerfileError) as info:
        plan_build(parse("FROM Not_Valid:image:x\n"))
    assert info.value.line == 1


def test_invalid_digest_and_platform_in_from_are_dockerfile_errors() -> None:
    for text, code in (("FROM a@sha256:xyz\n", "invalid-base"),
                       ("FROM --platform=bogus a\n", "invalid-platform"),
                       ("FROM a\nCOPY --from=b@sha256:12 x y\n", "unknown-stage"),
                       ("FROM a\nCOPY --from=" + "9" * 5000 + " x y\n", "unknown-stage")):
        with pytest.raises(DockerfileError) as info:
            plan_build(parse(text))
        assert info.value.code == code, text[:40]
