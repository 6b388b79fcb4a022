"""Casing rules: StageNameCasing, FromAsCasing, ConsistentInstructionCasing."""

from __future__ import annotations

from collections.abc import Iterator

from hoist.dockerfile.lint import registry as r
from hoist.dockerfile.lint.model import FileView, Instr
from hoist.dockerfile.lint.registry import LintWarning


def stage_name_casing(view: FileView) -> Iterator[LintWarning]:
    for stage in view.stages:
        if stage.name is not None and stage.name != stage.name.lower():
            message = f"Stage name '{stage.name}' should be lowercase"
            yield LintWarning(r.STAGE_NAME_CASING, message, stage.from_.source)


def expected_as(from_kw: str, as_kw: str) -> str:
    """The ``AS`` spelling that matches ``from_kw``: lower after ``from``, upper
    after ``FROM``, as written after a mixed-case ``From`` (which only
    ConsistentInstructionCasing reports)."""
    if from_kw == from_kw.lower():
        return as_kw.lower()
    if from_kw == from_kw.upper():
        return as_kw.upper()
    return as_kw


def from_as_casing(view: FileView) -> Iterator[LintWarning]:
    for stage in view.stages:
        word = stage.as_keyword
        if word is None:
            continue
        from_kw = stage.from_.keyword
        if word != expected_as(from_kw, word):
            message = f"'{word}' and '{from_kw}' keywords' casing do not match"
            yield LintWarning(r.FROM_AS_CASING, message, stage.from_.source)


def majority_is_lower(instrs: tuple[Instr, ...]) -> bool:
    """True when more self-consistent keywords are lower case than upper case
    (a tie counts as upper case, as in BuildKit)."""
    lower = upper = 0
    for instr in instrs:
        word = instr.keyword
        if word == word.lower():
            lower += 1
        elif word == word.upper():
            upper += 1
    return lower > upper


def cased_instrs(view: FileView) -> tuple[Instr, ...]:
    """The instructions BuildKit compares: each stage's FROM and body (the
    global ARGs before the first FROM are left out)."""
    return tuple(i for stage in view.stages for i in (stage.from_, *stage.instrs))


def consistent_instruction_casing(view: FileView) -> Iterator[LintWarning]:
    instrs = cased_instrs(view)
    lower = majority_is_lower(instrs)
    casing = "lowercase" if lower else "uppercase"
    for instr in instrs:
        word = instr.keyword
        if word != (word.lower() if lower else word.upper()):
            message = f"Command '{word}' should match the case of the command majority ({casing})"
            yield LintWarning(r.CONSISTENT_INSTRUCTION_CASING, message, instr.source)
