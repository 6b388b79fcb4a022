"""Any text either parses or raises a DockerfileError; parsing is linear (SECURITY.md H1)."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hoist.dockerfile import Run, parse, parse_bytes
from hoist.dockerfile.diagnostics import render
from hoist.errors import DockerfileError
from hoist.plan import evaluate, plan_build
from hoist.plan.state import Scope, StageState

_PIECES = st.sampled_from([
    "FROM ", "RUN ", "COPY ", "ADD ", "ENV ", "ARG ", "LABEL ", "ONBUILD ", "HEALTHCHECK ",
    "SHELL ", "CMD ", "EXPOSE ", "WORKDIR ", "USER ", "VOLUME ", "STOPSIGNAL ", "AS ",
    "--from=", "--mount=", "--chmod=", "--link", "--", "<<EOF", "<<-'E'", "EOF", "\n", "\\\n",
    "`", "# escape=`\n", "# syntax=x\n", "#", "[", "]", '"', "'", "${", "}", "$", ":-", "=",
    " ", "\t", "\r\n", "\ufeff", "a", "b", "/", ",", "0", "type=cache", "target=/x",
])


def _parse_or_error(text: str) -> None:
    try:
        df = parse(text)
    except DockerfileError as err:
        assert render(err)
        return
    try:
        plan = plan_build(df, build_args={"a": "1"})
    except DockerfileError as err:
        assert render(err)
        return
    for planned in plan.stages:
        state = StageState(scope=plan.scope)
        for instr in planned.stage.instructions:
            try:
                _, state = evaluate(instr, state, df)
            except DockerfileError as err:
                assert render(err)
                break


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_dockerfile_like_text_parses_or_fails_cleanly(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        parse_bytes(data)
    except DockerfileError as err:
        assert render(err)


def _timed(text: str) -> float:
    start = time.perf_counter()
    try:
        parse(text)
    except DockerfileError:
        pass
    return time.perf_counter() - start


def test_ten_thousand_lines_and_continuations_are_fast() -> None:
    lines = "FROM busybox\n" + "RUN echo hi\n" * 10_000
    assert _timed(lines) < 5
    continued = "FROM busybox\nRUN echo \\\n" + "  a \\\n" * 10_000 + "  end\n"
    df = parse(continued)
    assert df.stages[0].instructions[0].source.end == 10_003


def test_parse_time_grows_linearly() -> None:
    small = "FROM busybox\nRUN echo \\\n" + "  a \\\n" * 5_000 + "  end\n"
    large = "FROM busybox\nRUN echo \\\n" + "  a \\\n" * 50_000 + "  end\n"
    assert _timed(large) < 30 * max(_timed(small), 0.005)


def test_one_ten_megabyte_line() -> None:
    df = parse("FROM busybox\nRUN echo " + "x" * 10_000_000 + "\n")
    run = df.stages[0].instructions[0]
    assert isinstance(run, Run)
    assert len(run.command[0]) == 10_000_005


def test_big_heredoc_and_unterminated_heredoc() -> None:
    body = "line\n" * 1_000_000
    df = parse(f"FROM busybox\nRUN <<EOF\n{body}EOF\n")
    run = df.stages[0].instructions[0]
    assert isinstance(run, Run)
    assert run.heredocs[0].content == body
    try:
        parse("FROM busybox\nRUN <<EOF\n" + body)
    except DockerfileError as err:
        assert err.code == "unterminated-heredoc"
        assert len(render(err)) < 2_000
    else:
        raise AssertionError("an unterminated heredoc must fail")


def test_deep_nesting_in_a_dockerfile_is_a_dockerfile_error() -> None:
    deep = "${a:-" * 5000 + "x" + "}" * 5000
    df = parse(f"FROM busybox\nENV A={deep}\n")
    try:
        evaluate(df.stages[0].instructions[0], StageState(scope=Scope()), df)
    except DockerfileError as err:
        assert err.line == 2
        assert "nested deeper" in err.message
    else:
        raise AssertionError("5000-deep nesting must be refused")


def test_nul_and_invalid_utf8() -> None:
    for data in (b"FROM busybox\x00\n", b"FROM \xc3\x28\n"):
        try:
            parse_bytes(data)
        except DockerfileError as err:
            assert err.code in ("invalid-character", "invalid-encoding")
            assert err.line == 1
        else:
            raise AssertionError(data)


def test_deep_json_array_falls_back_to_shell_form() -> None:
    df = parse("FROM busybox\nCMD " + "[" * 100_000 + "\n")
    instr = df.stages[0].instructions[0]
    assert not instr.json_form  # type: ignore[union-attr]


def test_two_hundred_stages_chained() -> None:
    text = "FROM busybox AS s0\n" + "".join(
        f"FROM s{i - 1} AS s{i}\nCOPY --from=s{i - 1} /a /a\n" for i in range(1, 200))
    plan = plan_build(parse(text))
    assert [p.index for p in plan.stages] == list(range(200))
