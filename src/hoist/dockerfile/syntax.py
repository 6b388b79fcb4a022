"""Dockerfile syntax: directives, lines, continuations, comments, heredocs → nodes.

This layer knows no instruction semantics beyond *how each keyword's
arguments are split* (BuildKit's ``parser`` package does the same): unknown
keywords are kept as nodes and rejected one layer up, by
:mod:`hoist.dockerfile.instructions`, with a "did you mean".

Grammar (BuildKit ``docker/dockerfile:1`` rules)::

    file        := BOM? directive* line*
    directive   := '#' ws* key ws* '=' ws* value      (syntax | escape | check; each once;
                                                        the first other line ends them)
    line        := ws* (comment | instruction)
    comment     := '#' any*                           (only at line start)
    instruction := keyword (ws+ flag)* (ws+ args)? (escape ws* EOL continuation)*
    continuation:= comment and empty lines are dropped inside a continuation
    flag        := '--' name ('=' value)?
    heredoc     := '<<' '-'? word                     (RUN, COPY, ADD in shell form)

Parsing is linear in the size of the text and never recurses on its input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec

from hoist.dockerfile.lexing import (
    extract_flags,
    parse_json_array,
    split_name_value_words,
    split_whitespace,
)
from hoist.errors import DockerfileError
from hoist.models.source import SourceRange

DIRECTIVE_KEYS = ("syntax", "escape", "check")
HEREDOC_KEYWORDS = frozenset({"run", "copy", "add"})
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*")
_BOM = "\ufeff"


class Directives(msgspec.Struct, frozen=True):
    """Parser directives from the top of the file, keys lower-case."""

    values: tuple[tuple[str, str], ...] = ()
    escape: str = "\\"

    def get(self, key: str) -> str | None:
        return dict(self.values).get(key.lower())


class Heredoc(msgspec.Struct, frozen=True):
    """One here-document: its delimiter, body (newline-terminated lines) and mode.

    ``expand`` is False when any part of the delimiter was quoted; ``chomp``
    is True for ``<<-`` (leading tabs removed from the body and delimiter).
    """

    name: str
    content: str
    expand: bool = True
    chomp: bool = False


class Node(msgspec.Struct, frozen=True):
    """One instruction as the syntax layer sees it.

    ``keyword`` is lower-case, ``keyword_text`` as written. ``args`` are the
    argument words split the way this keyword splits them (JSON items when
    ``json_form``; ``name=value`` words for ENV/LABEL, with legacy ``ENV k v``
    turned into ``("k", "v")`` pairs flagged by ``legacy_kv``). ``rest`` is
    the text after the flags. ``sub`` is the child node of ONBUILD.
    """

    keyword: str
    keyword_text: str
    args: tuple[str, ...]
    flags: tuple[str, ...]
    source: SourceRange
    original: str
    rest: str = ""
    json_form: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    legacy_kv: bool = False
    sub: Node | None = None
    empty_continuation_lines: tuple[int, ...] = ()
    comments: tuple[str, ...] = ()


class SyntaxTree(msgspec.Struct, frozen=True):
    """The parsed file: directives, nodes in order, and the source text."""

    directives: Directives
    nodes: tuple[Node, ...]
    text: str
    filename: str = "Dockerfile"


class _Lines(msgspec.Struct):
    """A cursor over the physical lines (1-based numbers)."""

    lines: list[str]
    pos: int = 0

    def next(self) -> str | None:
        if self.pos >= len(self.lines):
            return None
        self.pos += 1
        return self.lines[self.pos - 1]

    @property
    def number(self) -> int:
        return self.pos


class _Ctx(msgspec.Struct):
    filename: str
    text: str
    escape: str = "\\"
    comments: list[str] = msgspec.field(default_factory=list)

    def error(
        self, message: str, start: int, end: int | None = None, code: str = ""
    ) -> DockerfileError:
        return DockerfileError(
            message, line=start, end_line=end, filename=self.filename, source=self.text,
            code=code or "dockerfile-syntax",
        )


def parse_bytes(data: bytes, filename: str = "Dockerfile") -> SyntaxTree:
    """Decode ``data`` as UTF-8 (BOM allowed) and parse it.

    Raises:
        DockerfileError: ``invalid-encoding`` for bytes that are not UTF-8, or
            any error of :func:`parse_text`.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DockerfileError(
            f"reading {filename}: invalid UTF-8 at byte {exc.start}",
            line=line, filename=filename, code="invalid-encoding",
            source=data.decode("utf-8", "replace"),
        ) from exc
    return parse_text(text, filename)


def parse_text(text: str, filename: str = "Dockerfile") -> SyntaxTree:
    """Parse Dockerfile ``text`` into nodes.

    Raises:
        DockerfileError: a bad directive, a NUL byte, an unterminated heredoc,
            or arguments a keyword cannot split (e.g. ``ENV`` without a value).
    """
    text = text.removeprefix(_BOM)
    ctx = _Ctx(filename, text)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ctx.error("parsing Dockerfile: NUL byte in text", line, code="invalid-character")
    lines = _Lines(_physical_lines(text))
    directives = _read_directives(lines, ctx)
    ctx.escape = directives.escape
    nodes = tuple(_read_nodes(lines, ctx))
    return SyntaxTree(directives, nodes, text, filename)


def _physical_lines(text: str) -> list[str]:
    """Split on ``\\n``, dropping one trailing ``\\r`` per line (CRLF files)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _read_directives(lines: _Lines, ctx: _Ctx) -> Directives:
    """``directive*``: stops (without consuming) at the first non-directive line."""
    seen: dict[str, str] = {}
    while lines.pos < len(lines.lines):
        match = _DIRECTIVE.fullmatch(lines.lines[lines.pos].strip())
        if match is None or match.group(1).lower() not in DIRECTIVE_KEYS:
            break
        key, value = match.group(1).lower(), match.group(2)
        lines.next()
        if key in seen:
            raise ctx.error(f"only one {key} parser directive can be used", lines.number,
                            code="duplicate-directive")
        if key == "escape" and value not in ("\\", "`"):
            raise ctx.error(f"invalid escape token {value!r} does not match ` or \\",
                            lines.number, code="invalid-escape")
        seen[key] = value
    return Directives(tuple(seen.items()), seen.get("escape", "\\"))


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def _strip_continuation(line: str, escape: str) -> tuple[str, bool]:
    """Remove a trailing escape (plus blanks); return (text, continues)."""
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return stripped[: -len(escape)], True
    return line, False


def _read_nodes(lines: _Lines, ctx: _Ctx) -> Iterator[Node]:
    while (raw := lines.next()) is not None:
        if _is_comment(raw):
            text = raw.lstrip(" \t")[1:].strip()
            ctx.comments = [*ctx.comments, text] if text else []
            continue
        first, continues = _strip_continuation(raw.lstrip(" \t"), ctx.escape)
        if not continues and not first.strip():
            continue
        start = lines.number
        joined, empties = _join_continuation(lines, ctx, first, continues)
        yield _node_with_heredocs(lines, ctx, joined, start, empties)
        ctx.comments = []


def _join_continuation(
    lines: _Lines, ctx: _Ctx, first: str, continues: bool
) -> tuple[str, tuple[int, ...]]:
    """Append continuation lines; comment and empty lines inside are dropped."""
    parts = [first]
    empties: list[int] = []
    while continues and (raw := lines.next()) is not None:
        if _is_comment(raw):
            continue
        if not raw.strip(" \t"):
            empties.append(lines.number)
            continue
        part, continues = _strip_continuation(raw, ctx.escape)
        parts.append(part)
    return "".join(parts), tuple(empties)


def _node_with_heredocs(
    lines: _Lines, ctx: _Ctx, line: str, start: int, empties: tuple[int, ...]
) -> Node:
    node = node_from_line(line, ctx.escape, SourceRange(start, start), ctx)
    heredocs: tuple[Heredoc, ...] = ()
    if node.keyword in HEREDOC_KEYWORDS and not node.json_form and "<<" in line:
        heredocs = tuple(_read_heredoc_bodies(lines, ctx, line, start))
    end = max(lines.number, start)
    return _replace_node(node, SourceRange(start, end), heredocs, empties, tuple(ctx.comments))


def _replace_node(
    node: Node, source: SourceRange, heredocs: tuple[Heredoc, ...],
    empties: tuple[int, ...], comments: tuple[str, ...],
) -> Node:
    return Node(
        node.keyword, node.keyword_text, node.args, node.flags, source, node.original,
        node.rest, node.json_form, heredocs, node.legacy_kv, node.sub, empties, comments,
    )


def _read_heredoc_bodies(lines: _Lines, ctx: _Ctx, line: str, start: int) -> Iterator[Heredoc]:
    from hoist.dockerfile.heredoc import heredoc_markers

    for name, expand, chomp in heredoc_markers(line, ctx.escape, lambda m: ctx.error(m, start)):
        body: list[str] = []
        while True:
            raw = lines.next()
            if raw is None:
                raise ctx.error(f"unterminated heredoc {name!r}", start, lines.number,
                                code="unterminated-heredoc")
            candidate = raw.lstrip("\t") if chomp else raw
            if candidate == name:
                break
            body.append(candidate + "\n")
        yield Heredoc(name, "".join(body), expand, chomp)


def node_from_line(line: str, escape: str, source: SourceRange, ctx: _Ctx | None = None) -> Node:
    """Split one logical line into keyword, flags and arguments.

    Raises:
        DockerfileError: arguments this keyword cannot split.
    """
    ctx = ctx or _Ctx("Dockerfile", line)
    stripped = line.strip()
    parts = re.split(r"[ \t\v\f\r]+", stripped, maxsplit=1)
    keyword_text = parts[0]
    keyword = keyword_text.lower()
    flags, rest = extract_flags(parts[1]) if len(parts) == 2 else ((), "")
    rest = rest.strip()
    try:
        args, json_form, legacy, sub = _split_args(keyword, rest, escape, source, ctx)
    except ValueError as exc:
        raise ctx.error(str(exc), source.start, code="invalid-arguments") from exc
    return Node(keyword, keyword_text, args, flags, source, stripped, rest, json_form,
                legacy_kv=legacy, sub=sub)


def _split_args(
    keyword: str, rest: str, escape: str, source: SourceRange, ctx: _Ctx
) -> tuple[tuple[str, ...], bool, bool, Node | None]:
    """How each keyword splits its arguments (BuildKit's dispatch table)."""
    if keyword in ("run", "cmd", "entrypoint", "shell"):
        items = parse_json_array(rest)
        return (tuple(items), True, False, None) if items is not None else (
            (rest,) if rest else (), False, False, None)
    if keyword in ("copy", "add", "volume"):
        items = parse_json_array(rest)
        return (tuple(items), True, False, None) if items is not None else (
            split_whitespace(rest), False, False, None)
    if keyword in ("env", "label"):
        words, legacy = split_name_value_words(keyword, rest, escape)
        return words, False, legacy, None
    if keyword == "arg":
        return split_name_value_words("arg", rest, escape)[0], False, False, None
    if keyword == "healthcheck":
        return _split_healthcheck(rest)
    if keyword == "onbuild":
        sub = node_from_line(rest, escape, source, ctx) if rest else None
        return ((rest,) if rest else ()), False, False, sub
    if keyword in ("maintainer", "stopsignal", "user", "workdir"):
        return ((rest,) if rest else ()), False, False, None
    return split_whitespace(rest), False, False, None


def _split_healthcheck(rest: str) -> tuple[tuple[str, ...], bool, bool, None]:
    """``HEALTHCHECK NONE`` | ``HEALTHCHECK CMD <json or shell>``."""
    parts = re.split(r"\s+", rest, maxsplit=1)
    if not parts[0]:
        return (), False, False, None
    tail = parts[1] if len(parts) == 2 else ""
    items = parse_json_array(tail)
    if items is not None:
        return (parts[0], *items), True, False, None
    return ((parts[0], tail) if tail else (parts[0],)), False, False, None
