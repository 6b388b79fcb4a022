"""Property tests: the ignore-file parser never fails except with ContextError, and the
linear-time NFA agrees with the regex translation of the same pattern."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hoist.context import IgnorePattern, parse_ignore
from hoist.context.ignore_glob import BadPattern, _Nfa, _regex, _tokenize
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
    except BadPattern:
        return
    regex = re.compile("".join(_regex(t) for t in tokens), re.DOTALL)
    assert _Nfa(tuple(tokens)).matches(path) == (regex.fullmatch(path) is not None)


def _reference_walk(patterns: list[IgnorePattern], path: str) -> bool:
    """patternmatcher's MatchesUsingParentResults, every pattern in order, fed
    top-down with each parent's per-pattern results: the slow, obvious form."""
    parts = path.split("/")
    parent: list[bool] | None = None
    excluded = False
    for depth in range(1, len(parts) + 1):
        current = "/".join(parts[:depth])
        excluded = False
        hits = [False] * len(patterns)
        for i, pattern in enumerate(patterns):
            hit = parent[i] if parent is not None else False
            if not hit:
                if pattern.exception != excluded:
                    continue
                hit = pattern.matches(current)
            hits[i] = hit
            if hit:
                excluded = not pattern.exception
        parent = hits
    return excluded


LINE = st.sampled_from(["a", "b", "a/b", "a/*", "*", "**/b", "!a/b", "!b", "!*/c", "a/b/c", "c"])
PATH = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4).map("/".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(LINE, max_size=6), PATH)
def test_sparse_matching_equals_reference_walk(lines: list[str], path: str) -> None:
    matcher = parse_ignore("\n".join(lines))
    assert matcher.matches(path) == _reference_walk(list(matcher.patterns), path)
