"""Expansion tables (tests/golden/expansion/*.table) and properties of the lexer."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hoist.dockerfile.shell import (
    MAX_NESTING,
    ExpansionError,
    expand_heredoc,
    expand_word,
    expand_words,
    glob_to_regex,
)
from tests.unit.dockerfile.golden import GOLDEN

DEFAULT_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _column(text: str) -> str:
    """A table cell: trimmed, or verbatim between « and »."""
    text = text.strip()
    if text.startswith("«") and text.endswith("»"):
        return text[1:-1]
    return text


def _env(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(";") if item.strip()]
    return {**DEFAULT_ENV, **{k.strip(): v.strip() for k, v in pairs}}


def _rows(name: str) -> list[tuple[str, dict[str, str], str]]:
    rows = []
    for line in (GOLDEN / "expansion" / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, env, expected = line.rsplit("|", 2)
        rows.append((_column(word), _env(env), _column(expected)))
    return rows


@pytest.mark.parametrize(("word", "env", "expected"), _rows("word.table"))
def test_word_table(word: str, env: dict[str, str], expected: str) -> None:
    if expected == "error":
        with pytest.raises(ExpansionError):
            expand_word(word, env)
    else:
        assert expand_word(word, env).value == expected


@pytest.mark.parametrize(("text", "env", "expected"), _rows("words.table"))
def test_words_table(text: str, env: dict[str, str], expected: str) -> None:
    assert expand_words(text, env).words == ast.literal_eval(expected)


def test_referenced_and_unset_names_are_reported() -> None:
    result = expand_word("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "x", "BAR": ""})
    assert result.value == "x  ccc"
    assert result.referenced == {"FOO", "BAR", "BAZ"}
    assert result.unset == {"BAZ"}


def test_message_of_question_mark_is_expanded() -> None:
    with pytest.raises(ExpansionError, match="VAR: message herex"):
        expand_word("${VAR:?message here$ARG}", {"VAR": "", "ARG": "x"})


def test_backtick_escape() -> None:
    assert expand_word("a`$PWD", {"PWD": "/h"}, escape="`").value == "a$PWD"
    assert expand_word("c:\\dir\\$PWD", {"PWD": "/h"}, escape="`").value == "c:\\dir\\/h"


def test_deep_nesting_is_a_clean_error() -> None:
    deep = "${a:-" * 5000 + "x" + "}" * 5000
    with pytest.raises(ExpansionError, match=f"deeper than {MAX_NESTING}"):
        expand_word(deep, {})
    ok = "${a:-" * 50 + "x" + "}" * 50
    assert expand_word(ok, {}).value == "x"


def test_heredoc_body_expands_only_dollars() -> None:
    body = "echo \"$A\" '$A' \\$A \\n\n"
    assert expand_heredoc(body, {"A": "1"}).value == "echo \"1\" '1' $A \\n\n"


def test_long_value_is_linear_enough() -> None:
    text = "${A}" * 20000 + "x" * 200000
    assert len(expand_word(text, {"A": "yy"}).value) == 240000


_SHELLY = st.lists(st.sampled_from(
    ["$", "{", "}", ":", "-", "+", "?", "#", "%", "/", "'", '"', "\\", "`", "a", "B", " ",
     "${a", "${B:-", "${a#", "${a//", "[", "]", "*", "!", "\n", "é", "0"]),
    max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SHELLY, st.sampled_from(["\\", "`"]))
def test_any_word_expands_or_raises_expansion_error(text: str, escape: str) -> None:
    env = {"a": "x/y*z", "B": ""}
    for fn in (expand_word, expand_words, expand_heredoc):
        try:
            result = fn(text, env, escape)
        except ExpansionError:
            continue
        assert result.unset <= result.referenced


def _brute(value: str, pattern: str, op: str) -> str:
    """Reference trims by trying every prefix/suffix with fnmatch-like full matching."""
    import re as _re

    regex = _re.compile("(?s:" + glob_to_regex(pattern) + ")")
    n = len(value)
    if op in ("#", "##"):
        ends = range(n, -1, -1) if op == "##" else range(n + 1)
        return next((value[e:] for e in ends if regex.fullmatch(value[:e])), value)
    starts = range(n + 1) if op == "%%" else range(n, -1, -1)
    return next((value[:s] for s in starts if regex.fullmatch(value[s:])), value)


@settings(max_examples=600, deadline=None)
@given(st.text("ab", max_size=8), st.text("ab*?", min_size=1, max_size=5),
       st.sampled_from(["#", "##", "%", "%%"]))
def test_trims_match_brute_force(value: str, pattern: str, op: str) -> None:
    got = expand_word("${V" + op + pattern + "}", {"V": value}).value
    assert got == _brute(value, pattern, op)


def test_trim_of_a_long_value_is_fast() -> None:
    import time

    value = "a" * 200_000
    start = time.perf_counter()
    for op in ("#", "##", "%", "%%"):
        assert expand_word("${V" + op + "*b}", {"V": value}).value == value
    assert time.perf_counter() - start < 5
