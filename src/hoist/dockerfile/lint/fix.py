"""``hoist lint --fix``: rewrite the mechanical findings in place.

Only what can be rewritten without changing what the Dockerfile means:
keyword casing (ConsistentInstructionCasing, FromAsCasing), stage-name casing
(stage names are case-insensitive), ``ENV k v`` → ``ENV k=v``
(LegacyKeyValueFormat, single-line and unambiguous values only), shell-form
CMD/ENTRYPOINT made of plain words → JSON (JSONArgsRecommended), EXPOSE
protocol casing, and empty continuation lines (which the parser drops
anyway). Every other byte of the file stays as it was, line endings included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import msgspec

from hoist.dockerfile.lint import registry as r
from hoist.dockerfile.lint.casing import cased_instrs, expected_as, majority_is_lower
from hoist.dockerfile.lint.model import FileView, Instr
from hoist.dockerfile.lint.registry import LintWarning

# Characters that make a shell-form command more than a list of plain words.
_SHELL_SPECIAL = set("$`\\|&;<>()*?[]{}~'\"#=!\n\t")
# Words that only a shell can run: no program of that name to exec.
_SHELL_BUILTINS = frozenset({
    "exec", "cd", "export", "set", "unset", "source", ".", "exit", "eval", "trap", "ulimit",
    "umask", "wait", "alias", "shift", "readonly", "return", "break", "continue", "if", "then",
    "else", "fi", "for", "while", "until", "do", "done", "case", "esac", "function", "local",
    "declare", "typeset",
})


class FixResult(msgspec.Struct, frozen=True):
    """The rewritten text, and which warnings it fixed and which it left."""

    text: str
    fixed: tuple[LintWarning, ...]
    left: tuple[LintWarning, ...]


class _Lines:
    """The file as lines with their endings, edited line by line."""

    majority_lower: bool | None = None  # computed once, on the first casing fix

    def __init__(self, text: str) -> None:
        # Only "\n" ends a line, as for the Dockerfile reader (not str.splitlines' set).
        self.lines = [line + "\n" for line in text.split("\n")]
        self.lines[-1] = self.lines[-1][:-1]
        self.deleted: set[int] = set()

    def get(self, lineno: int) -> str:
        return self.lines[lineno - 1]

    def sub(self, lineno: int, pattern: str, repl: Callable[[re.Match[str]], str]) -> bool:
        """Replace the first match of ``pattern`` on line ``lineno``; True if it did."""
        if not 0 < lineno <= len(self.lines):
            return False
        line = self.lines[lineno - 1]
        new, count = re.subn(pattern, repl, line, count=1)
        self.lines[lineno - 1] = new
        return count == 1

    def text(self) -> str:
        return "".join(line for i, line in enumerate(self.lines, 1) if i not in self.deleted)


def apply_fixes(text: str, view: FileView, warnings: list[LintWarning]) -> FixResult:
    """Rewrite ``text`` for every fixable warning in ``warnings`` (found on ``view``)."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = _Lines(text.removeprefix(bom))
    by_line = {
        line: i for i in view.all_instrs() for line in range(i.source.start, i.source.end + 1)
    }
    fixed: list[LintWarning] = []
    left: list[LintWarning] = []
    for warning in warnings:
        fixer = _FIXERS.get(warning.rule.name)
        instr = by_line.get(warning.line)
        done = fixer is not None and instr is not None and fixer(lines, view, instr, warning)
        (fixed if done else left).append(warning)
    return FixResult(bom + lines.text(), tuple(fixed), tuple(left))


def _keyword(lines: _Lines, view: FileView, instr: Instr, _w: LintWarning) -> bool:
    word = instr.keyword
    if lines.majority_lower is None:
        lines.majority_lower = majority_is_lower(cased_instrs(view))
    wanted = word.lower() if lines.majority_lower else word.upper()
    pattern = rf"^(\s*){re.escape(word)}(?=\s|$)"
    if not lines.sub(instr.source.start, pattern, lambda m: m.group(1) + wanted):
        return False
    if instr.name == "from":  # keep FromAsCasing true after changing FROM's case
        _stage_words(lines, view, instr, LintWarning(r.FROM_AS_CASING, "", instr.source))
    return True


def _stage_words(lines: _Lines, view: FileView, instr: Instr, w: LintWarning) -> bool:
    """Fix the ``AS`` casing or the stage-name casing of one FROM, whatever
    other fixes already did to that line."""
    stage = next(s for s in view.stages if s.from_ is instr)
    if stage.as_keyword is None or stage.name is None:
        return False
    from_kw = lines.get(instr.source.start).split(maxsplit=1)[0]
    pattern = rf"(?i)(?<=\s)(?P<as>as)(?P<gap>\s+)(?P<name>{re.escape(stage.name)})(?=\s*$)"

    def repl(m: re.Match[str]) -> str:
        as_word, name = m["as"], m["name"]
        if w.rule is r.FROM_AS_CASING:
            as_word = expected_as(from_kw, as_word)
        else:
            name = name.lower()
        return f"{as_word}{m['gap']}{name}"

    return any(
        lines.sub(lineno, pattern, repl)
        for lineno in range(instr.source.end, instr.source.start - 1, -1)
    )


def _legacy_env(lines: _Lines, _view: FileView, instr: Instr, _w: LintWarning) -> bool:
    if instr.source.start != instr.source.end or len(instr.args) < 2:
        return False
    line = lines.get(instr.source.start)
    match = re.match(
        rf"^(\s*(?i:{re.escape(instr.keyword)})\s+)({re.escape(instr.args[0])})(\s+)(.*?)(\s*)$",
        line,
        flags=re.DOTALL,
    )
    if match is None:
        return False
    value = _legacy_value(match.group(4))
    if value is None:
        return False
    ending = line[len(line.rstrip("\r\n")) :]
    lines.lines[instr.source.start - 1] = f"{match.group(1)}{match.group(2)}={value}{ending}"
    return True


def _legacy_value(raw: str) -> str | None:
    """The ``k=v`` spelling of a legacy value, or None when it is not plain."""
    if re.fullmatch(r'"[^"\\$`]*"', raw):
        return raw
    if any(ch in raw for ch in "\"'\\$`"):
        return None
    return f'"{raw}"' if re.search(r"\s", raw) else raw


def _json_args(lines: _Lines, _view: FileView, instr: Instr, _w: LintWarning) -> bool:
    if instr.source.start != instr.source.end or instr.flags:
        return False
    line = lines.get(instr.source.start)
    match = re.match(rf"^(\s*(?i:{re.escape(instr.keyword)})\s+)(.*?)(\s*)$", line, flags=re.DOTALL)
    if match is None or not match.group(2) or _SHELL_SPECIAL & set(match.group(2)):
        return False
    words = match.group(2).split()
    if words[0] == "exec" and len(words) > 1:
        words = words[1:]  # `sh -c "exec prog"` is exactly the exec form of prog
    if words[0] in _SHELL_BUILTINS:
        return False
    ending = line[len(line.rstrip("\r\n")) :]
    lines.lines[instr.source.start - 1] = f"{match.group(1)}{json.dumps(words)}{ending}"
    return True


def _expose_proto(lines: _Lines, _view: FileView, instr: Instr, _w: LintWarning) -> bool:
    changed = False
    for lineno in range(instr.source.start, instr.source.end + 1):
        line = lines.get(lineno)
        new = re.sub(r"(?<=/)([A-Za-z]+)\b", lambda m: m.group(1).lower(), line)
        if new != line:
            lines.lines[lineno - 1] = new
            changed = True
    return changed


def _empty_continuation(lines: _Lines, view: FileView, instr: Instr, _w: LintWarning) -> bool:
    empties = [line for line, owner in view.empty_continuations if owner is instr]
    lines.deleted.update(empties)
    return bool(empties)


_Fixer = Callable[[_Lines, FileView, Instr, LintWarning], bool]
_FIXERS: dict[str, _Fixer] = {
    r.CONSISTENT_INSTRUCTION_CASING.name: _keyword,
    r.FROM_AS_CASING.name: _stage_words,
    r.STAGE_NAME_CASING.name: _stage_words,
    r.LEGACY_KEY_VALUE_FORMAT.name: _legacy_env,
    r.JSON_ARGS_RECOMMENDED.name: _json_args,
    r.EXPOSE_PROTO_CASING.name: _expose_proto,
    r.NO_EMPTY_CONTINUATION.name: _empty_continuation,
}
