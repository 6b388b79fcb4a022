"""Read a Dockerfile's text into the lint view (:class:`FileView`).

The typed parser (:mod:`hoist.dockerfile`) normalises what lint must see
as written: keyword casing, empty continuation lines, the ``AS`` word, the raw
line of each instruction. This reader keeps those facts. It follows the
BuildKit syntax rules that matter for them (BOM, parser directives, the
escape character, comments and empty lines inside continuations, heredoc
bodies, flags, JSON form) and leaves validation to the real parser: callers
parse the file first, so this reader only sees text that parses.
"""

from __future__ import annotations

import json
import re

import msgspec

from hoist.dockerfile.lint.model import FileView, Instr, StageView
from hoist.models.source import SourceRange

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$")
_DIRECTIVE_KEYS = ("syntax", "escape", "check")
_HEREDOC = re.compile(r"<<(-?)\s*(?:'([^'\s]+)'|\"([^\"\s]+)\"|([A-Za-z0-9_.\-]+))")
_HEREDOC_KEYWORDS = ("run", "copy", "add")


class _Reader(msgspec.Struct):
    lines: list[str]
    escape: str = "\\"
    pos: int = 0
    empties: list[tuple[int, Instr]] = msgspec.field(default_factory=list)


def read_view(text: str) -> FileView:
    """Return the lint view of ``text`` (a Dockerfile that parses)."""
    text = text.removeprefix("\ufeff")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    directives, start = _directives(lines)
    escape = directives.get("escape", "\\") or "\\"
    reader = _Reader(lines, escape, start)
    instrs: list[Instr] = []
    while (instr := _next_instr(reader)) is not None:
        instrs.append(instr)
    meta, stages = group_stages(instrs)
    return FileView(
        lines=tuple(lines),
        meta=meta,
        stages=stages,
        check=directives.get("check"),
        check_line=directives.get("check_line", 0),  # type: ignore[arg-type]
        escape=escape,
        empty_continuations=tuple(reader.empties),
    )


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """Parser directives at the top: each known key once, ending at the first other line."""
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        key = match.group(1).lower() if match else ""
        if key not in _DIRECTIVE_KEYS or key in found:
            return found, index
        found[key] = match.group(2) if match else ""
        if key == "check":
            found["check_line"] = index + 1  # type: ignore[assignment]
    return found, len(lines)


def _next_instr(reader: _Reader) -> Instr | None:
    """Read one instruction (with its continuations and heredocs), or None at the end."""
    lines = reader.lines
    while reader.pos < len(lines) and _blank_or_comment(lines[reader.pos]):
        reader.pos += 1
    if reader.pos >= len(lines):
        return None
    start = reader.pos
    parts, empties = _logical_line(reader)
    keyword, _, rest = " ".join(parts).strip().partition(" ")
    rest = rest.strip()
    bodies: list[str] = []
    if keyword.lower() in _HEREDOC_KEYWORDS:
        bodies = _read_heredocs(reader, rest)
    instr = _make_instr(keyword, SourceRange(start + 1, reader.pos), rest, tuple(bodies))
    reader.empties.extend((line, instr) for line in empties)
    return instr


def _blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _logical_line(reader: _Reader) -> tuple[list[str], list[int]]:
    """Join continuation lines; return the parts and the empty continuation lines."""
    parts: list[str] = []
    empties: list[int] = []
    first = True
    while reader.pos < len(reader.lines):
        line = reader.lines[reader.pos]
        reader.pos += 1
        if not first and not line.strip():
            empties.append(reader.pos)
            continue
        if not first and line.lstrip().startswith("#"):
            continue
        first = False
        body = line.rstrip()
        if body.endswith(reader.escape):
            parts.append(body[: -len(reader.escape)])
            continue
        parts.append(line)
        break
    return parts, empties


def _read_heredocs(reader: _Reader, rest: str) -> list[str]:
    """Consume the heredoc bodies; return those of unquoted delimiters."""
    expanded: list[str] = []
    for match in _HEREDOC.finditer(rest):
        strip_tabs = bool(match.group(1))
        word = match.group(2) or match.group(3) or match.group(4)
        body: list[str] = []
        while reader.pos < len(reader.lines):
            line = reader.lines[reader.pos]
            reader.pos += 1
            if (line.lstrip("\t") if strip_tabs else line) == word:
                break
            body.append(line + "\n")
        if match.group(4):
            expanded.append("".join(body))
    return expanded


def _make_instr(
    keyword: str, source: SourceRange, rest: str, bodies: tuple[str, ...] = ()
) -> Instr:
    flags, body = _flags(rest)
    json_args = _json_list(body)
    words = split_words(body)
    legacy = keyword.lower() in ("env", "label") and bool(words) and "=" not in words[0]
    return Instr(
        keyword=keyword,
        name=keyword.lower(),
        source=source,
        args=tuple(json_args) if json_args is not None else tuple(words),
        flags=tuple(flags),
        json_form=json_args is not None,
        rest=rest,
        heredoc=keyword.lower() in _HEREDOC_KEYWORDS and bool(_HEREDOC.search(body)),
        legacy_kv=legacy,
        expanded_heredocs=bodies,
    )


def _flags(rest: str) -> tuple[list[tuple[str, str | None]], str]:
    flags: list[tuple[str, str | None]] = []
    body = rest
    while body.startswith("--"):
        word, _, body = body.partition(" ")
        body = body.lstrip()
        key, eq, value = word[2:].partition("=")
        flags.append((key.lower(), value if eq else None))
    return flags, body


def _json_list(body: str) -> list[str] | None:
    if not body.startswith("["):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def split_words(text: str) -> list[str]:
    """Split on whitespace outside quotes; quotes and escapes stay in the words."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    index = 0
    while index < len(text):
        ch = text[index]
        index += 1
        if ch == "\\" and quote != "'" and index < len(text):
            current.extend((ch, text[index]))
            index += 1
            continue
        if ch in "'\"" and quote in ("", ch):
            quote = "" if quote else ch
        elif ch.isspace() and not quote:
            if current:
                words.append("".join(current))
                current = []
            continue
        current.append(ch)
    if current:
        words.append("".join(current))
    return words


def group_stages(instrs: list[Instr]) -> tuple[tuple[Instr, ...], tuple[StageView, ...]]:
    meta: list[Instr] = []
    stages: list[StageView] = []
    current: list[Instr] | None = None
    for instr in instrs:
        if instr.name == "from":
            current = []
            stages.append(_stage(len(stages), instr, current))
        elif current is None:
            meta.append(instr)
        else:
            current.append(instr)
    # StageView is frozen: rebuild each with its final instruction tuple.
    return tuple(meta), tuple(
        StageView(s.index, s.from_, s.base, s.name, s.as_keyword, tuple(s.instrs)) for s in stages
    )


def _stage(index: int, instr: Instr, body: list[Instr]) -> StageView:
    args = instr.args
    base = args[0] if args else ""
    as_kw = name = None
    if len(args) >= 3 and args[1].lower() == "as":
        as_kw, name = args[1], args[2]
    return StageView(index, instr, base, name, as_kw, body)  # type: ignore[arg-type]
