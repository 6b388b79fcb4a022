"""The view of a Dockerfile the lint rules read.

Rules need things the typed instructions deliberately forget: the keyword as
written (``From``), the raw text of each line, whether an argument was in
JSON form, and which words came before expansion. :func:`build_view` makes
this view from the syntax nodes of :mod:`hoist.dockerfile.syntax`, so every
rule module depends on this file only.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from hoist.models.source import SourceRange


class Instr(msgspec.Struct, frozen=True):
    """One instruction as written.

    ``keyword`` is the keyword as typed (``From``); ``name`` its lower case;
    ``flags`` the ``--name=value`` flags in order (value None for a bare
    ``--link``); ``args`` the words after the flags, unexpanded (JSON items
    when ``json_form``); ``rest`` the raw text after the keyword, flags
    included, continuation joined; ``heredoc`` True when it has heredocs;
    ``legacy_kv`` True for ``ENV k v`` / ``LABEL k v``; ``expanded_heredocs``
    the bodies of heredocs whose delimiter was not quoted (BuildKit expands
    those for COPY and ADD).
    """

    keyword: str
    name: str
    source: SourceRange
    args: tuple[str, ...]
    flags: tuple[tuple[str, str | None], ...] = ()
    json_form: bool = False
    rest: str = ""
    heredoc: bool = False
    legacy_kv: bool = False
    expanded_heredocs: tuple[str, ...] = ()

    def flag(self, name: str) -> str | None:
        """Return the value of the last ``--name`` flag ('' for a bare one), or None."""
        value: str | None = None
        for key, raw in self.flags:
            if key == name:
                value = raw if raw is not None else ""
        return value


class StageView(msgspec.Struct, frozen=True):
    """A ``FROM`` and the instructions after it.

    ``name`` is the stage name as written (None without ``AS``); ``as_keyword``
    the ``AS`` word as written; ``base`` the image or stage word, unexpanded.
    """

    index: int
    from_: Instr
    base: str
    name: str | None
    as_keyword: str | None
    instrs: tuple[Instr, ...]


class FileView(msgspec.Struct, frozen=True):
    """The whole file: its raw lines, the ARGs before the first FROM, the stages,
    the ``# check=`` directive value (None when absent) and its line."""

    lines: tuple[str, ...]
    meta: tuple[Instr, ...]
    stages: tuple[StageView, ...]
    check: str | None = None
    check_line: int = 0
    escape: str = "\\"
    empty_continuations: tuple[tuple[int, Instr], ...] = ()
    env_by_base: Mapping[str, Mapping[str, str]] = msgspec.field(default_factory=dict)

    def all_instrs(self) -> tuple[Instr, ...]:
        """Every instruction in file order (FROM lines included)."""
        out = list(self.meta)
        for stage in self.stages:
            out.append(stage.from_)
            out.extend(stage.instrs)
        return tuple(sorted(out, key=lambda i: i.source.start))
