"""Property tests: the ignore-file parser never fails except with ContextError, and the
linear-time NFA agrees with the regex translation of the same pattern."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hoist.context import parse_ignore
from hoist.context.ignore import _BadPattern, _Nfa, _regex, _tokenize
from hoist.errors import ContextError

PATTERN_ALPHABET = st.sampled_from([*"ab/*?[]^-\\!.#", "**/", "[a-b]", "[^a]", " ", "\n"])
PATH_ALPHABET = st.sampled_from(list("ab/.!^-[]*?\\"))


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=0, max_size=60))
def test_any_text_parses_or_raises_context_error(text: str) -> None:
    try:
        matcher = parse_ignore(text)
    except ContextError:
        return
    matcher.matches("a/b/c")
    matcher.excludes("a/b/c")


@settings(max_examples=600, deadline=None)
@given(
    st.lists(PATTERN_ALPHABET, max_size=10).map("".join),
    st.lists(PATH_ALPHABET, max_size=12).map("".join),
)
def test_nfa_agrees_with_regex(pattern: str, path: str) -> None:
    import re

    try:
        tokens, _ = _tokenize(pattern)
    except _BadPattern:
        return
    regex = re.compile("".join(_regex(t) for t in tokens), re.DOTALL)
    assert _Nfa(tuple(tokens)).matches(path) == (regex.fullmatch(path) is not None)
