"""Unit tests of the lint building blocks: the check directive, secret names,
suggestions, the variable scanner, fix safety, rendering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoist.dockerfile.lint import CheckConfig, check, fix, lint, parse_check_options
from hoist.dockerfile.lint.render import detailed, summary
from hoist.dockerfile.lint.variables import is_secret_key, suggest
from hoist.dockerfile.lint.words import Ref, scan
from hoist.errors import DockerfileError


@pytest.mark.parametrize(
    ("value", "config"),
    [
        ("", CheckConfig()),
        ("skip=all", CheckConfig(skip_all=True)),
        (" skip = A, B ", CheckConfig(skip=frozenset({"A", "B"}))),
        ("error=true", CheckConfig(error=True)),
        (
            "skip=JSONArgsRecommended;error=1",
            CheckConfig(frozenset({"JSONArgsRecommended"}), False, True),
        ),
        ("error=false;skip=all", CheckConfig(skip_all=True)),
    ],
)
def test_check_directive(value: str, config: CheckConfig) -> None:
    assert parse_check_options(value) == config


@pytest.mark.parametrize("value", ["skip", "error=maybe", "colour=red", "skip=all;error=yes"])
def test_bad_check_directive_is_a_dockerfile_error(value: str) -> None:
    with pytest.raises(DockerfileError) as info:
        parse_check_options(value, line=1)
    assert info.value.code == "invalid-check-directive"
    assert info.value.line == 1


def test_bad_directive_in_file_raises() -> None:
    with pytest.raises(DockerfileError, match="invalid check option"):
        check("# check=bogus\nFROM alpine\n")


def test_error_true_fails_only_with_findings() -> None:
    assert lint("# check=error=true\nFROM alpine\nCMD echo\n").failed
    assert not lint('# check=error=true\nFROM alpine\nCMD ["echo"]\n').failed
    assert not lint("FROM alpine\nCMD echo\n").failed


def test_explicit_config_overrides_directive() -> None:
    text = "# check=skip=all\nFROM alpine\nCMD echo\n"
    assert check(text) == []
    assert [w.rule.name for w in check(text, config=CheckConfig())] == ["JSONArgsRecommended"]


def test_directive_only_at_top() -> None:
    text = "FROM alpine\n# check=skip=all\nCMD echo\n"
    assert [w.rule.name for w in check(text)] == ["JSONArgsRecommended"]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("API_KEY", True),
        ("apikey", True),
        ("GITHUB_TOKEN", True),
        ("DB_PASSWORD", True),
        ("MY_SECRET_1", True),
        ("SECRET1", False),  # a digit is not a token boundary
        ("SECRET_1", True),
        ("PUBLIC_KEY", False),
        ("KEYBOARD", False),
        ("MONKEY", False),
        ("AUTHOR", False),
        ("credentials", True),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_suggest() -> None:
    assert suggest("PAHT", ["PATH", "HOME"]) == "PATH"
    assert suggest("VERSON", ["VERSION"]) == "VERSION"
    assert suggest("X", ["PATH"]) == ""
    assert suggest("TOTALLY_DIFFERENT", ["PATH"]) == ""
    assert suggest("SAME_A", ["SEQ_A"]) == ""  # distance 3: too far
    assert suggest("PATH", ["PATH", "PATHS"]) == ""  # defined: nothing to suggest


@pytest.mark.parametrize(
    ("word", "env", "value", "refs"),
    [
        ("$a", {"a": "1"}, "1", [Ref("a", True)]),
        ("${a}b", {}, "b", [Ref("a", True)]),
        ("${a:-x}", {}, "x", [Ref("a", False)]),
        ("${a-x}", {"a": ""}, "", [Ref("a", False)]),
        ("${a:+y}", {"a": "1"}, "y", [Ref("a", False)]),
        ("${a:-${b}}", {}, "", [Ref("b", True), Ref("a", False)]),
        ("'$a'", {"a": "1"}, "$a", []),
        ('"$a"', {"a": "1"}, "1", [Ref("a", True)]),
        ("\\$a", {"a": "1"}, "$a", []),
        ("$1 $", {}, "$1 $", []),
        ("${a#x}", {"a": "xy"}, "xy", [Ref("a", True)]),
    ],
)
def test_scan(word: str, env: dict[str, str], value: str, refs: list[Ref]) -> None:
    assert scan(word, env) == (value, refs)


def test_scan_backtick_escape() -> None:
    assert scan("`$a$b", {"b": "2"}, escape="`") == ("$a2", [Ref("b", True)])


# --- fix safety ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "CMD echo $HOME",  # expansion needs a shell
        "CMD a && b",
        "CMD echo 'quoted'",
        "ENV A 'quoted value'",
        "ENV A $OTHER",
        "ENTRYPOINT --flag-like",  # fine to leave: starts with -- but is no flag
        "CMD cd /app",  # a shell builtin has no program to exec
        "CMD exec",
    ],
)
def test_unsafe_rewrites_are_left_alone(line: str) -> None:
    text = f"FROM alpine\n{line}\n"
    result = fix(text)
    assert line in result.text.splitlines() or result.text == text
    assert result.left


def test_exec_prefix_becomes_the_exec_form() -> None:
    assert fix("FROM alpine\nCMD exec nginx -g off\n").text == (
        'FROM alpine\nCMD ["nginx", "-g", "off"]\n'
    )


def test_fix_keeps_other_bytes() -> None:
    text = "FROM alpine\r\n# comment \t \r\nRUN  echo   a  \\\r\n    b\r\nenv A b\r\n\r\n"
    result = fix(text)
    assert result.text == text.replace("env A b", "ENV A=b")


def test_multiline_cmd_is_not_rewritten() -> None:
    text = "FROM alpine\nCMD echo \\\n  hi\n"
    assert fix(text).text == text


# --- rendering --------------------------------------------------------------------------------


def test_detailed_rendering() -> None:
    text = "FROM alpine\nRUN true\nCMD echo hi\n"
    (warning,) = check(text)
    block = detailed(warning, text.splitlines(), "app.Dockerfile")
    assert block.splitlines() == [
        "WARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
        "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals",
        "app.Dockerfile:3",
        "--------------------",
        " 1 |     FROM alpine",
        " 2 |     RUN true",
        " 3 | >>> CMD echo hi",
        "--------------------",
    ]
    assert summary(0) == "Check complete, no warnings found."
    assert summary(1) == "Check complete, 1 warning has been found!"


# --- robustness -------------------------------------------------------------------------------

DOCKERFILE_BITS = st.sampled_from(
    [
        "FROM alpine",
        "from x AS Y",
        "FROM --platform=$X a as b",
        "CMD echo",
        "ENV a b",
        "ENV a=b c=$d",
        "ARG X=${Y:-",
        "RUN <<EOF",
        "EOF",
        "\\",
        "`",
        "# check=skip=all",
        "# escape=`",
        "EXPOSE 80/TCP 1:2",
        "WORKDIR rel",
        "COPY ${",
        "LABEL",
        "\ufeff",
        "\r",
        "",
        " ",
        "[",
        '["a"]',
        "ONBUILD RUN x",
        "HEALTHCHECK NONE",
        "MAINTAINER",
        "--",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(DOCKERFILE_BITS, st.text(max_size=8)), max_size=12))
def test_lint_and_fix_never_crash(parts: list[str]) -> None:
    text = "\n".join(parts)
    try:
        check(text)
        fix(text)
    except DockerfileError:
        pass


def test_large_generated_file_lints_in_linear_time() -> None:
    import time

    body = "".join(f"run echo {i}\nENV K{i} v\nCOPY $X{i} /d\n" for i in range(4000))
    text = "FROM alpine AS Base\n" + body
    start = time.perf_counter()
    warnings = check(text)
    result = fix(text)
    assert len(warnings) == 12001  # casing x4000, legacy ENV x4000, undefined x4000, stage name
    assert len(result.fixed) == 8001
    assert time.perf_counter() - start < 60  # quadratic would take many minutes


LINES = st.sampled_from(
    [
        "FROM alpine",
        "from alpine AS Build",
        "From alpine as b2",
        "FROM alpine AS ok",
        "CMD echo hi",
        "cmd exec app --x",
        "ENTRYPOINT /bin/app",
        "CMD a && b",
        "ENV A b",
        "env B c d",
        "ENV C=d",
        "LABEL k v",
        "EXPOSE 80/TCP",
        "expose 53/UDP 1:2",
        "RUN true \\\n\n  && false",
        "WORKDIR rel",
        "MAINTAINER me",
        "ARG X=1",
        "copy . .",
        "# a comment",
        "",
        "RUN <<EOF\ncmd echo inside heredoc\nEOF",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=10))
def test_fix_output_parses_is_idempotent_and_touches_only_findings(lines: list[str]) -> None:
    syntax = pytest.importorskip("hoist.dockerfile.syntax")
    text = "FROM base\n" + "\n".join(lines) + "\n"
    result = fix(text)
    syntax.parse_text(result.text)  # still a Dockerfile
    assert fix(result.text).text == result.text
    touched = {line for w in result.fixed for line in range(w.source.start, w.source.end + 1)}
    before, after = text.splitlines(), result.text.splitlines()
    if len(before) == len(after):  # no empty continuation removed: compare line by line
        for number, (old, new) in enumerate(zip(before, after, strict=True), 1):
            assert old == new or number in touched


def test_build_target_lints_only_the_stages_it_needs() -> None:
    text = (
        "FROM alpine AS a\n"  # 1
        "ENV A b\n"  # 2: needed by c (COPY --from=a)
        "FROM alpine AS unused\n"  # 3
        "ENV B c\n"  # 4: nobody needs it
        "FROM alpine AS m\n"  # 5
        "ENV C d\n"  # 6: needed through RUN --mount from=m
        "FROM alpine AS c\n"  # 7
        "COPY --from=a /x /x\n"
        "RUN --mount=type=bind,from=m,target=/m true\n"
        "CMD echo\n"  # 10
        "from alpine AS Other\n"  # 11: file-level findings are always kept
        "ENV D e\n"  # 12
    )
    every = {w.line for w in check(text)}
    assert {2, 4, 6, 10, 11, 12} <= every
    built_c = [(w.line, w.rule.name) for w in check(text, build_target="c")]
    assert {line for line, _ in built_c} == {2, 6, 10, 11}
    assert all(rule != "LegacyKeyValueFormat" or line in (2, 6) for line, rule in built_c)
    last = {w.line for w in check(text, build_target="")}
    assert 12 in last and 4 not in last and 2 not in last
    assert {w.line for w in check(text, build_target="nope")} == every  # the build reports it
