"""Find the heredoc markers (``<<EOF``, ``<<-'EOF'``…) of one logical line.

A marker is a shell word of the form ``'<<' '-'? name``. When any part of
the name was quoted, the body is not expanded (BuildKit compares the word
lexed with and without quote removal; counting syntactic quotes is the same).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from hoist.errors import DockerfileError

_MARKER = re.compile(r"<<(-?)\s*([^<]*)")


def _raw_words(line: str, escape: str) -> Iterator[str]:
    """Shell words with quotes and escapes kept as written."""
    word: list[str] = []
    quote = ""
    pos, n = 0, len(line)
    while pos < n:
        ch = line[pos]
        pos += 1
        if not quote and ch.isspace():
            if word:
                yield "".join(word)
            word = []
            continue
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch
        elif ch == escape and quote != "'" and pos < n:
            word.append(ch)
            ch = line[pos]
            pos += 1
        word.append(ch)
    if word:
        yield "".join(word)


def _unquote(raw: str, escape: str) -> tuple[str, bool]:
    """Remove quotes and escapes; return (name, was_quoted)."""
    out: list[str] = []
    quote = ""
    quoted = False
    pos = 0
    while pos < len(raw):
        ch = raw[pos]
        pos += 1
        if quote and ch == quote:
            quote = ""
            continue
        if not quote and ch in "'\"":
            quote, quoted = ch, True
            continue
        if ch == escape and quote != "'" and pos < len(raw):
            ch = raw[pos]
            pos += 1
            quoted = True
        out.append(ch)
    return "".join(out), quoted


def heredoc_markers(
    line: str, escape: str, error: Callable[[str], DockerfileError]
) -> Iterator[tuple[str, bool, bool]]:
    """Yield (name, expand, chomp) for each heredoc marker in ``line``, in order.

    Raises:
        DockerfileError: (made by ``error``) a marker with an empty name.
    """
    for word in _raw_words(line, escape):
        match = _MARKER.fullmatch(word)
        if match is None:
            continue
        name, quoted = _unquote(match.group(2), escape)
        if not name:
            raise error("heredoc marker without a name")
        yield name, not quoted, match.group(1) == "-"
