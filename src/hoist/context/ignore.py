"""``.dockerignore`` matching with BuildKit's semantics (moby/patternmatcher).

The file, line by line (``ignorefile.ReadAll``): a UTF-8 BOM is dropped from the
first line; a line starting with ``#`` is a comment (only at column 0, before
trimming); the line is trimmed; empty lines are skipped; a leading ``!`` makes
an exception (the rest is trimmed again); the pattern is cleaned like Go's
``filepath.Clean`` and one leading ``/`` is dropped, so ``/a``, ``./a`` and
``a/`` all mean ``a``.

A pattern (``filepath.Match`` syntax, plus ``**``):

    *           any run of characters except ``/``
    ?           one character except ``/``
    [class]     ``[abc]``, ``[a-z]``, ``[^a-z]`` (only ``^`` negates; ``\\`` escapes)
    \\c          the character ``c``
    **          any number of path components (``**/`` may match nothing)

A syntax error (an unclosed or empty class, a trailing ``\\``, a lone ``!``) is
a :class:`~hoist.errors.ContextError` naming the file, the line and the pattern.

Matching (``MatchesOrParentMatches``): a pattern matches a path when it matches
the path or one of its parent directories; the *last* matching pattern decides,
so ``!`` exceptions re-include what earlier lines excluded and later lines can
exclude again. Like patternmatcher, a pattern is classified once: a literal
(exact compare), ``prefix/**`` (string prefix), ``**suffix`` without other
wildcards (string suffix; note ``**foo`` therefore matches ``barfoo``), or a
general pattern. General patterns with at most two unbounded wildcards use
Python's ``re``; the others use a linear-time NFA so a hostile pattern such as
``**/**/**/**/a`` cannot make matching exponential (Go's RE2 is linear too).

Walking: BuildKit's walker does not descend into an excluded directory unless
some exception pattern, read as text, starts with that directory's path
(``!dir/keep`` does, ``!**/keep`` does not). :meth:`IgnoreMatcher.can_prune`
answers that question, and :meth:`IgnoreMatcher.excludes` gives the walker's
final answer for one path. Matching is linear in the number of patterns: the
patterns are compiled once, literal patterns sit in a dict, and the scan runs
from the last pattern backwards and stops at the first that decides.

Divergences from BuildKit, on purpose: ``\\d`` means ``d`` (patternmatcher
passes the escape to Go's regexp, where ``\\d`` is a digit class), and a
``*`` inside a class is the character ``*``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hoist.errors import ContextError

__all__ = [
    "IgnoreMatcher",
    "IgnorePattern",
    "clean_path",
    "find_ignore_file",
    "load_ignore",
    "parse_ignore",
]

_BOM = "\ufeff"


class MatchKind(enum.Enum):
    """How a pattern is compared with a path (patternmatcher's match types)."""

    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    GLOB = "glob"


class _BadPattern(ValueError):
    """Internal: a pattern is not valid ``filepath.Match`` syntax."""


@dataclass(frozen=True, slots=True)
class IgnorePattern:
    """One compiled line of an ignore file.

    ``text`` is the cleaned pattern without its ``!``; ``exception`` is True
    for a ``!`` line; ``line`` is the 1-based line in the file (0 if the
    pattern did not come from a file).
    """

    text: str
    exception: bool
    line: int
    kind: MatchKind
    _test: Callable[[str], bool] = field(repr=False, compare=False)

    def matches(self, path: str) -> bool:
        """Return whether this pattern alone matches ``path`` (no parent rule)."""
        return self._test(path)


def clean_path(path: str) -> str:
    """Return ``path`` cleaned like Go's ``filepath.Clean`` on Unix.

    Repeated slashes collapse, ``.`` components vanish, ``x/..`` pairs cancel,
    a rooted ``..`` vanishes, and the empty result is ``.``.
    """
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            out.append(part)
        elif out and out[-1] != "..":
            out.pop()
        elif not rooted:
            out.append("..")
    body = "/".join(out)
    if rooted:
        return "/" + body
    return body or "."


def parse_ignore(text: str, *, filename: str = ".dockerignore") -> IgnoreMatcher:
    """Compile the text of an ignore file into a matcher. Pure: no I/O.

    Raises:
        ContextError: a pattern is not valid (``filename``, line and pattern
            are in the message).
    """
    patterns = [_compile(raw, lineno, filename) for lineno, raw in _pattern_lines(text) if raw]
    return IgnoreMatcher(patterns, source=filename)


def _pattern_lines(text: str) -> Iterable[tuple[int, str]]:
    """Yield ``(line number, normalised pattern)`` per non-comment line."""
    text = text.removeprefix(_BOM)
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")  # bufio.ScanLines drops one CR
        if line.startswith("#"):
            continue
        yield lineno, _normalise(line.strip())


def _normalise(pattern: str) -> str:
    """Clean one trimmed line the way ``ignorefile.ReadAll`` does."""
    if not pattern:
        return ""
    exception = pattern.startswith("!")
    if exception:
        pattern = pattern[1:].strip()
    if pattern:
        pattern = clean_path(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
    return "!" + pattern if exception else pattern


def _compile(raw: str, lineno: int, filename: str) -> IgnorePattern:
    """Compile one normalised line (``!`` included) into an IgnorePattern."""
    pattern = clean_path(raw)  # patternmatcher.New cleans once more
    exception = pattern.startswith("!")
    if exception:
        pattern = pattern[1:]
        if not pattern:
            raise ContextError(
                f'reading {filename}: line {lineno}: illegal exclusion pattern: "!"',
                hint="an exception needs a pattern after the '!'",
            )
    try:
        kind, test = _classify(pattern)
    except _BadPattern as exc:
        raise ContextError(
            f"reading {filename}: line {lineno}: invalid pattern {pattern!r}: {exc}",
            hint="patterns use Go filepath.Match syntax: * ? [a-z] [^a-z] \\c and **",
        ) from exc
    return IgnorePattern(pattern, exception, lineno, kind, test)


# --- pattern compilation ---------------------------------------------------------------------

# Tokens: ("lit", char) ("any",) ("class", negated, ranges) ("star",) ("dstar",) ("dstar_end",)
_Token = tuple[object, ...]


def _classify(pattern: str) -> tuple[MatchKind, Callable[[str], bool]]:
    """Classify ``pattern`` like patternmatcher and return its test function.

    Raises:
        _BadPattern: the pattern is not valid ``filepath.Match`` syntax.
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
        _BadPattern: an unclosed or empty class, or a trailing backslash.
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
                raise _BadPattern("trailing backslash")
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
        _BadPattern: the class is empty, unclosed, or a range is incomplete.
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
        ranges.append((lo, hi))


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """Read one class character (maybe escaped) at ``i``."""
    if i >= len(pattern):
        raise _BadPattern("unclosed character class")
    ch = pattern[i]
    if ch in "-]":
        raise _BadPattern(f"unexpected {ch!r} in character class")
    if ch == "\\":
        if i + 1 >= len(pattern):
            raise _BadPattern("unclosed character class")
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
    """Thompson simulation of a token list: O(len(path) x len(tokens)).

    States are token indices; ``-(k + 1)`` means "inside the ``(.*/)?`` of
    token ``k``", which must still end with a ``/``.
    """

    __slots__ = ("_tokens",)

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        self._tokens = tokens

    def matches(self, path: str) -> bool:
        states = self._closure({0})
        for ch in path:
            states = self._closure(self._step(states, ch))
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

    def _step(self, states: set[int], ch: str) -> set[int]:
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


# --- the matcher -----------------------------------------------------------------------------


class IgnoreMatcher:
    """A compiled ignore file: which context paths it excludes.

    Paths are relative to the context root, with ``/`` separators; they are
    cleaned first, so ``./a//b`` is ``a/b``. Immutable after construction.
    """

    __slots__ = ("_by_head", "_exact", "_exception_prefixes", "_headless", "_patterns", "_source")

    def __init__(self, patterns: Sequence[IgnorePattern], *, source: str = "") -> None:
        self._patterns = tuple(patterns)
        self._source = source
        # Three indexes keep a lookup cheap with 100k patterns: literals by text,
        # patterns whose first component is literal by that component (every
        # candidate of one path shares its first component), and the rest.
        self._exact: dict[str, int] = {}
        self._by_head: dict[str, list[int]] = {}
        self._headless: list[int] = []
        for index, pattern in enumerate(self._patterns):
            head = _literal_head(pattern.text)
            if pattern.kind is MatchKind.EXACT:
                self._exact[pattern.text] = index  # later lines overwrite earlier ones
            elif head is not None:
                self._by_head.setdefault(head, []).append(index)
            else:
                self._headless.append(index)
        self._exception_prefixes = tuple(p.text + "/" for p in self._patterns if p.exception)

    @property
    def patterns(self) -> tuple[IgnorePattern, ...]:
        return self._patterns

    @property
    def source(self) -> str:
        """The ignore file these patterns came from ("" when none)."""
        return self._source

    @property
    def has_exceptions(self) -> bool:
        return bool(self._exception_prefixes)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def matches(self, rel_path: str) -> bool:
        """Return whether the patterns exclude ``rel_path`` (patternmatcher's
        ``MatchesOrParentMatches``): the last pattern matching the path or a
        parent directory decides. The context root itself is never matched.
        """
        index = self._decisive(_relative(rel_path))
        return index >= 0 and not self._patterns[index].exception

    def can_prune(self, rel_dir: str) -> bool:
        """Return whether a walker may skip directory ``rel_dir`` entirely.

        True when the directory is excluded and no exception pattern starts
        with its path (BuildKit's walker rule); everything below is then
        excluded too, whatever :meth:`matches` says for it.
        """
        path = _relative(rel_dir)
        if not self.matches(path):
            return False
        prefix = path + "/"
        return not any(p.startswith(prefix) for p in self._exception_prefixes)

    def excludes(self, rel_path: str) -> bool:
        """Return BuildKit's walker's verdict for ``rel_path``: excluded when a
        parent directory can be pruned or when :meth:`matches` says so."""
        path = _relative(rel_path)
        if self.matches(path):
            return True
        parts = path.split("/")
        return any(self.can_prune("/".join(parts[:i])) for i in range(1, len(parts)))

    def _decisive(self, path: str) -> int:
        """Return the index of the last pattern matching ``path`` or a parent, or -1."""
        if path == ".":
            return -1
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        best = max((self._exact.get(c, -1) for c in candidates), default=-1)
        for group in (self._by_head.get(parts[0], ()), self._headless):
            best = max(best, self._last_in(group, candidates, best))
        return best

    def _last_in(self, group: Sequence[int], candidates: list[str], floor: int) -> int:
        """Return the last index in ``group`` above ``floor`` that matches a candidate."""
        for index in reversed(group):
            if index < floor:
                break
            test = self._patterns[index].matches
            if any(test(c) for c in candidates):
                return index
        return -1


def _literal_head(pattern: str) -> str | None:
    """Return the first component of ``pattern`` if it has no wildcard, else None."""
    head, slash, _ = pattern.partition("/")
    if not slash or any(ch in head for ch in "*?[\\"):
        return None
    return head


def _relative(path: str) -> str:
    return clean_path(path).lstrip("/") or "."


# --- finding and reading the file ------------------------------------------------------------


def find_ignore_file(context_dir: Path, dockerfile: Path | None = None) -> Path | None:
    """Return the ignore file that applies, or None.

    ``<Dockerfile name>.dockerignore`` beside the Dockerfile wins over
    ``.dockerignore`` at the context root. ``dockerfile`` None means
    ``<context_dir>/Dockerfile``.
    """
    dockerfile = dockerfile if dockerfile is not None else context_dir / "Dockerfile"
    candidates = (
        dockerfile.with_name(dockerfile.name + ".dockerignore"),
        context_dir / ".dockerignore",
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def load_ignore(context_dir: Path, dockerfile: Path | None = None) -> IgnoreMatcher:
    """Read and compile the ignore file for a build (see :func:`find_ignore_file`).

    Returns an empty matcher (which excludes nothing) when there is none.

    Raises:
        ContextError: the file cannot be read, or a pattern is invalid.
    """
    path = find_ignore_file(context_dir, dockerfile)
    if path is None:
        return IgnoreMatcher((), source="")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContextError(
            f"reading {path}: {exc.strerror or exc}", hint="check the file's permissions"
        ) from exc
    # Go reads bytes; surrogateescape keeps non-UTF-8 patterns byte-exact
    # against names from os.fsdecode.
    return parse_ignore(data.decode("utf-8", "surrogateescape"), filename=str(path))
