"""Compiling one ``.dockerignore`` pattern: Go ``filepath.Match`` syntax plus ``**``,
classified the way moby/patternmatcher classifies it (see :mod:`hoist.context.ignore`
for the semantics). Pure: strings in, test functions out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence

import msgspec

__all__ = ["BadPattern", "IgnorePattern", "MatchKind", "classify"]


class MatchKind(enum.Enum):
    """How a pattern is compared with a path (patternmatcher's match types)."""

    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    GLOB = "glob"


class BadPattern(ValueError):
    """A pattern is not valid ``filepath.Match`` syntax (the message says why)."""


class IgnorePattern(msgspec.Struct, frozen=True):
    """One compiled line of an ignore file.

    ``text`` is the cleaned pattern without its ``!``; ``exception`` is True
    for a ``!`` line; ``line`` is the 1-based line in the file (0 if the
    pattern did not come from a file).
    """

    text: str
    exception: bool
    line: int
    kind: MatchKind
    _test: Callable[[str], bool]

    def matches(self, path: str) -> bool:
        """Return whether this pattern alone matches ``path`` (no parent rule)."""
        return self._test(path)

    # ``_test`` is made from ``text`` and ``kind``: equality, hashing and the repr leave it out

    def _key(self) -> tuple[str, bool, int, MatchKind]:
        return (self.text, self.exception, self.line, self.kind)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IgnorePattern):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"IgnorePattern(text={self.text!r}, exception={self.exception!r}, "
                f"line={self.line!r}, kind={self.kind!r})")


# Tokens: ("lit", char) ("any",) ("class", negated, ranges) ("star",) ("dstar",) ("dstar_end",)
_Token = tuple[object, ...]


def classify(pattern: str) -> tuple[MatchKind, Callable[[str], bool]]:
    """Classify ``pattern`` like patternmatcher and return its test function.

    Raises:
        BadPattern: the pattern is not valid ``filepath.Match`` syntax.
    """
    tokens, kind = _tokenize(pattern)
    if kind is MatchKind.EXACT:
        return kind, pattern.__eq__
    if kind is MatchKind.PREFIX:
        return kind, _prefix_test(pattern[:-2])
    if kind is MatchKind.SUFFIX:
        return kind, _suffix_test(pattern[2:])
    return kind, _glob_test(tokens)


def _prefix_test(prefix: str) -> Callable[[str], bool]:
    return lambda path: path.startswith(prefix)


def _suffix_test(suffix: str) -> Callable[[str], bool]:
    def test(path: str) -> bool:
        if path.endswith(suffix):
            return True
        # "**/foo" also matches "foo" itself
        return suffix.startswith("/") and path == suffix[1:]

    return test


def _tokenize(pattern: str) -> tuple[list[_Token], MatchKind]:
    """Split ``pattern`` into tokens and decide its MatchKind.

    The kind follows patternmatcher: any wildcard, class or escape makes a
    GLOB; a ``**`` at the very end of an otherwise literal pattern makes a
    PREFIX; a ``**`` at the very start makes a SUFFIX unless a later token is
    a wildcard.

    Raises:
        BadPattern: an unclosed or empty class, or a trailing backslash.
    """
    tokens: list[_Token] = []
    kind = MatchKind.EXACT
    i, n = 0, len(pattern)
    while i < n:
        start = i
        ch = pattern[i]
        i += 1
        if ch == "*" and i < n and pattern[i] == "*":
            i += 1
            if i < n and pattern[i] == "/":
                i += 1
            at_end = i == n
            kind = MatchKind.PREFIX if at_end and kind is MatchKind.EXACT else MatchKind.GLOB
            tokens.append(("dstar_end",) if i == n else ("dstar",))
            if start == 0:
                kind = MatchKind.SUFFIX
        elif ch in "*?":
            tokens.append(("star",) if ch == "*" else ("any",))
            kind = MatchKind.GLOB
        elif ch == "\\":
            if i == n:
                raise BadPattern("trailing backslash")
            tokens.append(("lit", pattern[i]))
            i += 1
            kind = MatchKind.GLOB
        elif ch == "[":
            token, i = _parse_class(pattern, i)
            tokens.append(token)
            kind = MatchKind.GLOB
        else:
            tokens.append(("lit", ch))
    return tokens, kind


def _parse_class(pattern: str, i: int) -> tuple[_Token, int]:
    """Parse a class body after ``[``; return the token and the index after ``]``.

    Grammar (Go ``filepath.Match``)::

        class := '[' ['^'] range { range } ']'
        range := char | char '-' char        char := c (not \\ - ]) | '\\' c

    Raises:
        BadPattern: the class is empty, unclosed, or a range is incomplete.
    """
    negated = pattern.startswith("^", i)
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges:
            return ("class", negated, tuple(ranges)), i + 1
        lo, i = _class_char(pattern, i)
        hi = lo
        if i < len(pattern) and pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
            if hi < lo:  # filepath.Match accepts it; BuildKit's regexp then fails
                raise BadPattern(f"invalid character class range {lo}-{hi}")
        ranges.append((lo, hi))


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """Read one class character (maybe escaped) at ``i``."""
    if i >= len(pattern):
        raise BadPattern("unclosed character class")
    ch = pattern[i]
    if ch in "-]":
        raise BadPattern(f"unexpected {ch!r} in character class")
    if ch == "\\":
        if i + 1 >= len(pattern):
            raise BadPattern("unclosed character class")
        return pattern[i + 1], i + 2
    return ch, i + 1


_UNBOUNDED = frozenset({"star", "dstar", "dstar_end"})
_MAX_REGEX_STARS = 2  # with more, backtracking can blow up: use the NFA


def _glob_test(tokens: list[_Token]) -> Callable[[str], bool]:
    return _LazyGlob(tuple(tokens))


class _LazyGlob:
    """A general pattern, compiled on first use (a huge ignore file whose
    patterns are never consulted costs no regex compilation)."""

    __slots__ = ("_test", "_tokens")

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        self._tokens = tokens
        self._test: Callable[[str], bool] | None = None

    def __call__(self, path: str) -> bool:
        if self._test is None:
            self._test = _compile_glob(self._tokens)
        return self._test(path)


def _compile_glob(tokens: tuple[_Token, ...]) -> Callable[[str], bool]:
    stars = sum(1 for t in tokens if t[0] in _UNBOUNDED)
    if stars <= _MAX_REGEX_STARS:
        regex = re.compile("".join(_regex(t) for t in tokens), re.DOTALL)
        return lambda path: regex.fullmatch(path) is not None
    return _Nfa(tokens).matches


def _regex(token: _Token) -> str:
    kind = token[0]
    if kind == "lit":
        return re.escape(str(token[1]))
    if kind == "any":
        return "[^/]"
    if kind == "star":
        return "[^/]*"
    if kind == "dstar":
        return "(?:.*/)?"
    if kind == "dstar_end":
        return ".*"
    return _class_regex(bool(token[1]), token[2])  # type: ignore[arg-type]


def _class_regex(negated: bool, ranges: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}"
        for lo, hi in ranges
        if lo <= hi  # a reversed range matches nothing, as in Go
    )
    if not body:
        return "." if negated else "(?!)"
    return f"[{'^' if negated else ''}{body}]"


def _class_has(token: _Token, ch: str) -> bool:
    ranges: Sequence[tuple[str, str]] = token[2]  # type: ignore[assignment]
    inside = any(lo <= ch <= hi for lo, hi in ranges)
    return inside != bool(token[1])


class _Nfa:
    """Thompson simulation of a token list, with the state sets it meets cached
    as a lazy DFA: O(len(path) x len(tokens)) at worst, one dict lookup per
    character once warm.

    States are token indices; ``-(k + 1)`` means "inside the ``(.*/)?`` of
    token ``k``", which must still end with a ``/``.
    """

    __slots__ = ("_start", "_tokens", "_transitions")

    _MAX_TRANSITIONS = 4096  # a hostile pattern cannot make the cache grow without bound

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        self._tokens = tokens
        self._start = frozenset(self._closure({0}))
        self._transitions: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def matches(self, path: str) -> bool:
        states = self._start
        for ch in path:
            nxt = self._transitions.get((states, ch))
            if nxt is None:
                nxt = frozenset(self._closure(self._step(states, ch)))
                if len(self._transitions) >= self._MAX_TRANSITIONS:
                    self._transitions.clear()
                self._transitions[(states, ch)] = nxt
            states = nxt
            if not states:
                return False
        return len(self._tokens) in states

    def _closure(self, states: set[int]) -> set[int]:
        todo = list(states)
        while todo:
            k = todo.pop()
            unbounded = 0 <= k < len(self._tokens) and self._tokens[k][0] in _UNBOUNDED
            if unbounded and k + 1 not in states:
                states.add(k + 1)
                todo.append(k + 1)
        return states

    def _step(self, states: frozenset[int], ch: str) -> set[int]:
        out: set[int] = set()
        for k in states:
            if k < 0:
                out.add(k)
                if ch == "/":
                    out.add(-k)  # -(j+1) -> j+1: the dstar ended with "/"
                continue
            if k < len(self._tokens):
                self._advance(k, ch, out)
        return out

    def _advance(self, k: int, ch: str, out: set[int]) -> None:
        token = self._tokens[k]
        kind = token[0]
        if (kind == "star" and ch != "/") or kind == "dstar_end":
            out.add(k)
        elif kind == "dstar":
            out.add(-(k + 1))
            if ch == "/":
                out.add(k + 1)
        elif (
            (kind == "lit" and token[1] == ch)
            or (kind == "any" and ch != "/")
            or (kind == "class" and _class_has(token, ch))
        ):
            out.add(k + 1)
