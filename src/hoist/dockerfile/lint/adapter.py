"""Build the lint view from the syntax tree of :mod:`hoist.dockerfile.syntax`.

The syntax nodes keep what lint needs (the keyword as written, flags in
order, JSON form, legacy ``ENV k v``, heredocs, empty continuation lines),
so lint reads the same file the build reads.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hoist.dockerfile.lint.model import FileView, Instr
from hoist.dockerfile.lint.source import group_stages

if TYPE_CHECKING:
    from hoist.dockerfile.syntax import Node, SyntaxTree

_CHECK_DIRECTIVE = re.compile(r"^#\s*check\s*=", re.IGNORECASE)


def view_from_tree(tree: SyntaxTree) -> FileView:
    """Return the lint view of a parsed Dockerfile."""
    lines = [line.removesuffix("\r") for line in tree.text.split("\n")]
    instrs = [_instr(node) for node in tree.nodes]
    empties = tuple(
        (line, instr)
        for node, instr in zip(tree.nodes, instrs, strict=True)
        for line in node.empty_continuation_lines
    )
    meta, stages = group_stages(instrs)
    return FileView(
        lines=tuple(lines),
        meta=meta,
        stages=stages,
        check=tree.directives.get("check"),
        check_line=_check_line(lines),
        escape=tree.directives.escape,
        empty_continuations=empties,
    )


def _instr(node: Node) -> Instr:
    return Instr(
        keyword=node.keyword_text,
        name=node.keyword,
        source=node.source,
        args=tuple(node.args),
        flags=tuple(_flag(text) for text in node.flags),
        json_form=node.json_form,
        rest=node.rest,
        heredoc=bool(node.heredocs),
        legacy_kv=node.legacy_kv,
        expanded_heredocs=tuple(h.content for h in node.heredocs if h.expand),
    )


def _flag(text: str) -> tuple[str, str | None]:
    key, eq, value = text.removeprefix("--").partition("=")
    return key.lower(), value if eq else None


def _check_line(lines: list[str]) -> int:
    for number, line in enumerate(lines, 1):
        if _CHECK_DIRECTIVE.match(line):
            return number
        if not line.startswith("#"):
            return 0
    return 0
