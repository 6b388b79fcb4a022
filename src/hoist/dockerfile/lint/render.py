"""Text forms of lint findings, as ``docker build`` prints them.

``short``: ``WARN: Rule: message (line N)`` (the progress-stream form).
``detailed``: the ``docker build --check`` block: rule and URL, description,
``Dockerfile:N``, and the lines around the finding with ``>>>`` markers.
"""

from __future__ import annotations

from collections.abc import Sequence

from hoist.dockerfile.lint.registry import LintWarning

_RULER = "-" * 20
_CONTEXT = 2


def short(warning: LintWarning) -> str:
    return f"WARN: {warning.short()}"


def detailed(warning: LintWarning, lines: Sequence[str], filename: str = "Dockerfile") -> str:
    """The ``--check`` block for one finding; ``lines`` are the file's lines."""
    out = [
        f"WARNING: {warning.rule.name} - {warning.rule.url}",
        warning.message,
    ]
    if warning.source is None:
        return "\n".join(out)
    start, end = warning.source.start, warning.source.end
    out.append(f"{filename}:{warning.source}")
    out.append(_RULER)
    first, last = max(1, start - _CONTEXT), min(len(lines), end + _CONTEXT)
    width = len(str(last))
    for lineno in range(first, last + 1):
        marker = ">>>" if start <= lineno <= end else "   "
        out.append(f" {lineno:>{width}} | {marker} {lines[lineno - 1]}".rstrip())
    out.append(_RULER)
    return "\n".join(out)


def summary(count: int) -> str:
    if count == 0:
        return "Check complete, no warnings found."
    noun = "warning has" if count == 1 else "warnings have"
    return f"Check complete, {count} {noun} been found!"
