"""Render a :class:`DockerfileError` as a diagnostic a user can act on.

    Dockerfile:7: unknown instruction: RUNN (did you mean RUN?)
    --------------------
       6 |     WORKDIR /app
       7 | >>> RUNN echo hi
       8 |     CMD ["sh"]
    --------------------
    hint: …
    error reference: unknown-instruction

The context shows two lines either side of the error's range (long ranges
are elided in the middle, long lines cut), so the output stays small for
any input.

Error references (``DockerfileError.code``) of the frontend:

    syntax        invalid-encoding invalid-character duplicate-directive invalid-escape
                  unterminated-heredoc invalid-arguments
    instructions  unknown-instruction unknown-flag duplicate-flag invalid-flag
                  missing-argument wrong-argument-count missing-destination blank-name
                  invalid-stage-name shell-not-json invalid-chmod invalid-mount
                  invalid-duration invalid-healthcheck onbuild-chain onbuild-trigger
                  empty-volume no-stage empty-dockerfile
    expansion     expansion-error invalid-value
    planning      unknown-target unknown-stage stage-cycle duplicate-stage-name
                  invalid-base invalid-platform invalid-onbuild
    engine        unsupported-flag (raised through ``require_supported``)
"""

from __future__ import annotations

from hoist.errors import DockerfileError

CONTEXT_LINES = 2
MAX_RANGE_LINES = 6
MAX_LINE_CHARS = 160
_RULE = "-" * 20


def _visible(ch: str) -> str:
    return ch if ch == "\t" or ch.isprintable() else repr(ch)[1:-1]


def _cut(line: str) -> str:
    line = "".join(_visible(ch) for ch in line.rstrip("\r")[: MAX_LINE_CHARS + 1])
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " ..."


def _numbers(start: int, end: int, total: int) -> list[int | None]:
    """Line numbers to show (None marks an elision)."""
    first, last = max(1, start - CONTEXT_LINES), min(total, end + CONTEXT_LINES)
    if end - start + 1 <= MAX_RANGE_LINES:
        return list(range(first, last + 1))
    half = MAX_RANGE_LINES // 2
    return [*range(first, start + half), None, *range(end - half + 1, last + 1)]


def context_lines(source: str, start: int, end: int) -> list[str]:
    """The framed source excerpt for lines ``start..end`` (1-based, inclusive)."""
    lines = source.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    end = min(max(end, start), len(lines))
    if not lines or start > len(lines):
        return []
    width = len(str(end + CONTEXT_LINES))
    out = [_RULE]
    for number in _numbers(start, end, len(lines)):
        if number is None:
            out.append(f" {'…':>{width}} |")
            continue
        marker = ">>>" if start <= number <= end else "   "
        out.append(f" {number:>{width}} | {marker} {_cut(lines[number - 1])}")
    out.append(_RULE)
    return out


def headline(err: DockerfileError) -> str:
    """``Dockerfile:7: message`` (no line number when the error has none)."""
    where = f"{err.filename}:{err.line}" if err.line is not None else err.filename
    return f"{where}: {err.message}"


def render(err: DockerfileError) -> str:
    """Return the full multi-line diagnostic for ``err`` (never raises)."""
    out = [headline(err)]
    if err.source is not None and err.line is not None:
        source = err.source.removeprefix("\ufeff")
        out.extend(context_lines(source, err.line, err.end_line or err.line))
    if err.hint:
        out.append(f"hint: {err.hint}")
    out.append(f"error reference: {err.code}")
    return "\n".join(out)
