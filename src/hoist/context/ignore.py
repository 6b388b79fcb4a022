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

Matching, as BuildKit's walker does it (patternmatcher's
``MatchesUsingParentResults``, each directory handing its per-pattern results
to its children): a pattern matches a path when it matches the path or
matched its parent; the *last* matching pattern decides, so ``!`` exceptions
re-include what earlier lines excluded and later lines can exclude again.
One quirk is kept on purpose: a pattern that could not change its parent's
verdict was not tried there, so for ``d``, ``!d/e``, ``d`` the file ``d/e``
stays included. Like patternmatcher, a pattern is classified once: a literal
(exact compare), ``prefix/**`` (string prefix), ``**suffix`` without other
wildcards (string suffix; note ``**foo`` therefore matches ``barfoo``), or a
general pattern. General patterns with at most two unbounded wildcards use
Python's ``re``; the others use a linear-time NFA so a hostile pattern such as
``**/**/**/**/a`` cannot make matching exponential (Go's RE2 is linear too).

Walking (fsutil): an excluded directory is skipped whole only when no
exception has a wildcard (a trailing ``/**`` or ``/*`` does not count) and
none starts with the directory's path (``!dir/keep`` and ``!dir/**`` keep
``dir`` open; ``!**/keep`` keeps every directory open).
:meth:`IgnoreMatcher.can_prune` answers that question, and
:meth:`IgnoreMatcher.excludes` gives the walker's final answer for one path.
Lookups are cheap with 100k patterns: patterns are compiled once (general ones
on first use), literal ones sit in a dict, the others are bucketed by a
literal first component, and only patterns that can match a path are tried.

Divergences from BuildKit, on purpose: ``\\d`` means ``d`` (patternmatcher
passes the escape to Go's regexp, where ``\\d`` is a digit class), and a
``*`` inside a class is the character ``*``. A reversed range ``[z-a]`` is an
error here when the file is read; BuildKit fails on it when matching.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from hoist.context.ignore_glob import BadPattern, IgnorePattern, MatchKind, classify
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
_MAX_LINE = 64 * 1024  # bufio.MaxScanTokenSize
# Go's unicode.IsSpace (strings.TrimSpace): not Python's set, which adds \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000"
)


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
    lines = _pattern_lines(text, filename)
    patterns = [_compile(raw, lineno, filename) for lineno, raw in lines if raw]
    return IgnoreMatcher(patterns, source=filename)


def _pattern_lines(text: str, filename: str) -> Iterable[tuple[int, str]]:
    """Yield ``(line number, normalised pattern)`` per non-comment line.

    Raises:
        ContextError: a line of 64 KiB or more (Go's bufio.Scanner refuses it).
    """
    text = text.removeprefix(_BOM)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if len(line) * 4 >= _MAX_LINE and len(line.encode("utf-8", "surrogateescape")) >= _MAX_LINE:
            raise ContextError(
                f"reading {filename}: line {lineno}: line too long (64 KiB or more)",
                hint="split the pattern list over several lines",
            )
        line = line.removesuffix("\r")  # bufio.ScanLines drops one CR
        if line.startswith("#"):
            continue
        yield lineno, _normalise(line.strip(_GO_SPACE))


def _normalise(pattern: str) -> str:
    """Clean one trimmed line the way ``ignorefile.ReadAll`` does."""
    if not pattern:
        return ""
    exception = pattern.startswith("!")
    if exception:
        pattern = pattern[1:].strip(_GO_SPACE)
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
        kind, test = classify(pattern)
    except BadPattern as exc:
        raise ContextError(
            f"reading {filename}: line {lineno}: invalid pattern {pattern!r}: {exc}",
            hint="patterns use Go filepath.Match syntax: * ? [a-z] [^a-z] \\c and **",
        ) from exc
    return IgnorePattern(pattern, exception, lineno, kind, test)


# --- the matcher -----------------------------------------------------------------------------


class IgnoreMatcher:
    """A compiled ignore file: which context paths it excludes.

    Paths are relative to the context root, with ``/`` separators; they are
    cleaned first, so ``./a//b`` is ``a/b``. Patterns never change after
    construction; the matcher keeps a cache of the directories it has seen.
    """

    __slots__ = (
        "_by_head",
        "_cache",
        "_exact",
        "_exception_prefixes",
        "_headless",
        "_patterns",
        "_prunable",
        "_source",
    )

    def __init__(self, patterns: Sequence[IgnorePattern], *, source: str = "") -> None:
        self._patterns = tuple(patterns)
        self._source = source
        # Three indexes find the patterns that match one path without trying
        # them all: literals by text, patterns whose first component is
        # literal by that component, and the rest (which are tried every time).
        self._exact: dict[str, list[int]] = {}
        self._by_head: dict[str, list[int]] = {}
        self._headless: list[int] = []
        for index, pattern in enumerate(self._patterns):
            head = _literal_head(pattern.text)
            if pattern.kind is MatchKind.EXACT:
                self._exact.setdefault(pattern.text, []).append(index)
            elif head is not None:
                self._by_head.setdefault(head, []).append(index)
            else:
                self._headless.append(index)
        exceptions = [p.text for p in self._patterns if p.exception]
        self._exception_prefixes = tuple(text + "/" for text in exceptions)
        # fsutil walks into excluded directories when an exception has a wildcard.
        self._prunable = not any(_has_wildcard(text) for text in exceptions)
        self._cache: dict[str, _Decision] = {}

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
        """Return whether the patterns exclude ``rel_path``, as BuildKit decides
        while walking (patternmatcher's ``MatchesUsingParentResults`` fed with
        the results of each parent directory). The root is never matched.
        """
        path = _relative(rel_path)
        return path != "." and self._decide(path).excluded

    def can_prune(self, rel_dir: str) -> bool:
        """Return whether a walker may skip directory ``rel_dir`` entirely.

        As fsutil's walker: the directory is excluded, and either there are
        no exceptions, or every exception is wildcard-free and none starts
        with the directory's path. Everything below a pruned directory is
        excluded, whatever :meth:`matches` says for it.
        """
        path = _relative(rel_dir)
        if not self._prunable or not self.matches(path):
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

    def _decide(self, path: str) -> _Decision:
        """The decision for ``path``, computing (and caching) its parents first."""
        parts = path.split("/")
        ancestors = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
        parent: _Decision | None = None
        for ancestor in ancestors:
            cached = self._cache.get(ancestor)
            if cached is None:
                cached = self._step(ancestor, parent)
                self._cache[ancestor] = cached
            parent = cached
        return self._step(path, parent)

    def _step(self, path: str, parent: _Decision | None) -> _Decision:
        """patternmatcher's per-pattern loop, visiting only the patterns that
        can change the outcome: those the parent matched and those matching
        ``path`` itself (any other pattern records "no match" either way)."""
        inherited = parent.matched if parent is not None else frozenset()
        excluded = False
        hits: list[int] = []
        for index in sorted(inherited | self._matching(path)):
            pattern = self._patterns[index]
            # Skipped (recorded as no match) when it cannot change the verdict,
            # unless the parent matched it.
            if index not in inherited and pattern.exception != excluded:
                continue
            hits.append(index)
            excluded = not pattern.exception
        return _Decision(excluded, frozenset(hits))

    def _matching(self, path: str) -> set[int]:
        """Indices of the patterns that match ``path`` itself."""
        found = set(self._exact.get(path, ()))
        head = path.partition("/")[0]
        for group in (self._by_head.get(head, ()), self._headless):
            found.update(i for i in group if self._patterns[i].matches(path))
        return found


class _Decision(msgspec.Struct, frozen=True):
    """A path's verdict and the patterns that matched it (passed to its children)."""

    excluded: bool
    matched: frozenset[int]


def _literal_head(pattern: str) -> str | None:
    """Return the first component of ``pattern`` if it has no wildcard, else None."""
    head, slash, _ = pattern.partition("/")
    if not slash or any(ch in head for ch in "*?[\\"):
        return None
    return head


def _has_wildcard(text: str) -> bool:
    """fsutil's test for an exception that may match anywhere: after one
    trailing ``/**`` and then one trailing ``/*`` are removed, any of
    ``* [ ] ? ^ \\`` is left."""
    text = text.removesuffix("/**").removesuffix("/*")
    return any(ch in text for ch in "*[]?^\\")


def _relative(path: str) -> str:
    return clean_path(path).lstrip("/") or "."


# --- finding and reading the file ------------------------------------------------------------


def find_ignore_file(context_dir: Path, dockerfile: Path | None = None) -> Path | None:
    """Return the ignore file that applies, or None.

    ``<Dockerfile name>.dockerignore`` beside the Dockerfile wins over
    ``.dockerignore`` at the context root. ``dockerfile`` None means
    ``<context_dir>/Dockerfile``; ``Path("-")`` (read from stdin) has no
    Dockerfile-specific ignore file.
    """
    dockerfile = dockerfile if dockerfile is not None else context_dir / "Dockerfile"
    candidates = [context_dir / ".dockerignore"]
    if str(dockerfile) != "-":
        candidates.insert(0, dockerfile.with_name(dockerfile.name + ".dockerignore"))
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
