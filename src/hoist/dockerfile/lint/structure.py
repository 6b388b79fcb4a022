"""Rules about stages and instructions: DuplicateStageName, ReservedStageName,
MultipleInstructionsDisallowed, WorkdirRelativePath, JSONArgsRecommended,
MaintainerDeprecated, LegacyKeyValueFormat, NoEmptyContinuation,
ExposeProtoCasing, ExposeInvalidFormat."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from hoist.dockerfile.lint import registry as r
from hoist.dockerfile.lint.model import FileView, Instr, StageView
from hoist.dockerfile.lint.registry import LintWarning
from hoist.models.source import SourceRange

RESERVED_STAGE_NAMES = ("context", "scratch")
_ONCE_PER_STAGE = ("cmd", "entrypoint", "healthcheck")


def duplicate_stage_name(view: FileView) -> Iterator[LintWarning]:
    seen: set[str] = set()
    for stage in view.stages:
        if stage.name is None:
            continue
        name = stage.name.lower()
        if name in seen:
            message = f'Duplicate stage name "{name}", stage names should be unique'
            yield LintWarning(r.DUPLICATE_STAGE_NAME, message, stage.from_.source)
        seen.add(name)


def reserved_stage_name(view: FileView) -> Iterator[LintWarning]:
    for stage in view.stages:
        if stage.name is not None and stage.name.lower() in RESERVED_STAGE_NAMES:
            message = (
                f'Stage name should not use the same name as reserved stage "{stage.name.lower()}"'
            )
            yield LintWarning(r.RESERVED_STAGE_NAME, message, stage.from_.source)


def multiple_instructions_disallowed(view: FileView) -> Iterator[LintWarning]:
    """Every CMD, ENTRYPOINT or HEALTHCHECK but the last of its kind in a stage."""
    for stage in view.stages:
        last: dict[str, Instr] = {}
        for instr in stage.instrs:
            if instr.name not in _ONCE_PER_STAGE:
                continue
            previous = last.get(instr.name)
            if previous is not None:
                message = (
                    f"Multiple {instr.name.upper()} instructions should not be used in the "
                    "same stage because only the last one will be used"
                )
                yield LintWarning(r.MULTIPLE_INSTRUCTIONS_DISALLOWED, message, previous.source)
            last[instr.name] = instr


def workdir_relative_path(view: FileView) -> Iterator[LintWarning]:
    """A relative WORKDIR before any absolute one in the stage or the stages it
    is built FROM."""
    absolute: dict[str, bool] = {}
    for stage in view.stages:
        has_abs = absolute.get(stage.base.lower(), False)
        for instr in stage.instrs:
            if instr.name != "workdir" or not instr.args:
                continue
            path = instr.args[0]
            if posixpath.isabs(path) or path.startswith("$"):
                has_abs = True
            elif not has_abs:
                message = (
                    f'Relative workdir "{path}" can have unexpected results if the base '
                    "image changes"
                )
                yield LintWarning(r.WORKDIR_RELATIVE_PATH, message, instr.source)
        absolute[str(stage.index)] = has_abs
        if stage.name is not None:
            absolute[stage.name.lower()] = has_abs


def json_args_recommended(view: FileView) -> Iterator[LintWarning]:
    """Shell-form CMD/ENTRYPOINT, unless the stage chose its SHELL explicitly."""
    shell_set: dict[str, bool] = {}
    for stage in view.stages:
        explicit = shell_set.get(stage.base.lower(), False)
        for instr in stage.instrs:
            if instr.name == "shell":
                explicit = True
            elif instr.name in ("cmd", "entrypoint") and not instr.json_form and not explicit:
                yield _json_warning(instr)
        _remember(shell_set, stage, explicit)


def _json_warning(instr: Instr) -> LintWarning:
    message = (
        f"JSON arguments recommended for {instr.name.upper()} to prevent unintended behavior "
        "related to OS signals"
    )
    return LintWarning(r.JSON_ARGS_RECOMMENDED, message, instr.source)


def _remember(table: dict[str, bool], stage: StageView, value: bool) -> None:
    table[str(stage.index)] = value
    if stage.name is not None:
        table[stage.name.lower()] = value


def maintainer_deprecated(view: FileView) -> Iterator[LintWarning]:
    for instr in view.all_instrs():
        if instr.name == "maintainer":
            message = "Maintainer instruction is deprecated in favor of using label"
            yield LintWarning(r.MAINTAINER_DEPRECATED, message, instr.source)


def is_legacy_key_value(instr: Instr) -> bool:
    """ENV or LABEL written ``key value`` (no ``=`` in the first word)."""
    return instr.name in ("env", "label") and instr.legacy_kv


def legacy_key_value_format(view: FileView) -> Iterator[LintWarning]:
    for instr in view.all_instrs():
        if is_legacy_key_value(instr):
            kw = instr.name.upper()
            message = f'"{kw} key=value" should be used instead of legacy "{kw} key value" format'
            yield LintWarning(r.LEGACY_KEY_VALUE_FORMAT, message, instr.source)


def no_empty_continuation(view: FileView) -> Iterator[LintWarning]:
    """One finding per instruction with empty continuation lines, placed (as
    BuildKit's parser places it) on the instruction's last line."""
    seen: set[int] = set()
    for _line, instr in view.empty_continuations:
        if instr.source.start in seen:
            continue
        seen.add(instr.source.start)
        where = SourceRange(instr.source.end, instr.source.end)
        yield LintWarning(r.NO_EMPTY_CONTINUATION, "Empty continuation line", where)


_PROTO = re.compile(r"^(?P<port>[^/]*)/(?P<proto>[^/]+)$")


def expose_proto_casing(view: FileView) -> Iterator[LintWarning]:
    for instr in _exposes(view):
        for port in instr.args:
            match = _PROTO.match(port)
            if match and match["proto"] != match["proto"].lower():
                message = f"Defined protocol '{port}' in EXPOSE instruction should be lowercase"
                yield LintWarning(r.EXPOSE_PROTO_CASING, message, instr.source)


def expose_invalid_format(view: FileView) -> Iterator[LintWarning]:
    for instr in _exposes(view):
        for port in instr.args:
            if ":" in port:
                message = (
                    "EXPOSE instruction should not define an IP address or host-port mapping, "
                    f"found '{port}'"
                )
                yield LintWarning(r.EXPOSE_INVALID_FORMAT, message, instr.source)


def _exposes(view: FileView) -> Iterator[Instr]:
    return (i for i in view.all_instrs() if i.name == "expose")
