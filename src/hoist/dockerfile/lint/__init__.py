"""Dockerfile build checks: BuildKit's lint rules, under their names.

Public API (``dockerfile`` is the text, a :class:`~hoist.dockerfile.syntax.SyntaxTree`
or a typed :class:`~hoist.dockerfile.Dockerfile`)::

    check(dockerfile, *, build_args=None, base_env=None, config=None, filename=...,
          build_target=None) -> list[LintWarning]: every enabled rule's findings,
        sorted by line (``build_target``: only the stages that build needs, as
        ``docker build`` reports them; None: all, as ``docker build --check``).
    lint(dockerfile, ...) -> LintReport   findings plus the CheckConfig in force;
                                          ``report.failed`` is True when
                                          ``error=true`` is in force and there
                                          are findings (the build then fails
                                          with "lint violation found for rules").
    fix(text, ...) -> FixResult           the mechanical findings rewritten (see
                                          :mod:`hoist.dockerfile.lint.fix`).
    RULES: dict[str, Rule]                name → rule (description, doc URL, fixable)
    parse_check_options(value) -> CheckConfig
    render.short / render.detailed        the two ways docker prints a finding

``config`` defaults to the ``BUILDKIT_DOCKERFILE_CHECK`` build arg when given,
else the file's ``# check=skip=…;error=…`` directive. A :class:`LintWarning`
renders in BuildKit's short form with ``.short()``: ``JSONArgsRecommended: JSON
arguments recommended for CMD to prevent unintended behavior related to OS
signals (line 5)``.

Pure: takes text and values, returns values. ``base_env`` maps a FROM image
(as written) to its config's environment; for an image not in it, only
``PATH`` is assumed defined (UndefinedVar). Text is read through
:mod:`hoist.dockerfile.syntax` when it is installed, so text that does not
parse raises its :class:`~hoist.errors.DockerfileError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import msgspec

from hoist.dockerfile.lint import casing, structure, variables
from hoist.dockerfile.lint import registry as r
from hoist.dockerfile.lint.adapter import view_from_tree
from hoist.dockerfile.lint.fix import FixResult, apply_fixes
from hoist.dockerfile.lint.model import FileView
from hoist.dockerfile.lint.reach import needed_stages, stage_of_line
from hoist.dockerfile.lint.registry import (
    RULES,
    CheckConfig,
    LintWarning,
    Rule,
    parse_check_options,
)
from hoist.dockerfile.lint.source import read_view
from hoist.dockerfile.lint.variables import VarContext

if TYPE_CHECKING:
    from hoist.dockerfile.instructions import Dockerfile
    from hoist.dockerfile.syntax import SyntaxTree

__all__ = [
    "RULES",
    "CheckConfig",
    "FixResult",
    "LintReport",
    "LintWarning",
    "Rule",
    "check",
    "fix",
    "lint",
    "parse_check_options",
]

_Check = Callable[[FileView, VarContext], Iterable[LintWarning]]


def _plain(fn: Callable[[FileView], Iterator[LintWarning]]) -> _Check:
    return lambda view, _ctx: fn(view)


# Rule → the function that finds it. Findings are sorted by line, then by
# their rule's place here.
_CHECKS: tuple[tuple[Rule, _Check], ...] = (
    (r.NO_EMPTY_CONTINUATION, _plain(structure.no_empty_continuation)),
    (r.CONSISTENT_INSTRUCTION_CASING, _plain(casing.consistent_instruction_casing)),
    (r.STAGE_NAME_CASING, _plain(casing.stage_name_casing)),
    (r.FROM_AS_CASING, _plain(casing.from_as_casing)),
    (r.DUPLICATE_STAGE_NAME, _plain(structure.duplicate_stage_name)),
    (r.RESERVED_STAGE_NAME, _plain(structure.reserved_stage_name)),
    (r.UNDEFINED_ARG_IN_FROM, _plain(variables.undefined_arg_in_from)),
    (r.INVALID_DEFAULT_ARG_IN_FROM, _plain(variables.invalid_default_arg_in_from)),
    (r.REDUNDANT_TARGET_PLATFORM, _plain(variables.redundant_target_platform)),
    (r.FROM_PLATFORM_FLAG_CONST_DISALLOWED, _plain(variables.from_platform_flag_const_disallowed)),
    (r.MAINTAINER_DEPRECATED, _plain(structure.maintainer_deprecated)),
    (r.LEGACY_KEY_VALUE_FORMAT, _plain(structure.legacy_key_value_format)),
    (r.SECRETS_USED_IN_ARG_OR_ENV, _plain(variables.secrets_used_in_arg_or_env)),
    (r.EXPOSE_PROTO_CASING, _plain(structure.expose_proto_casing)),
    (r.EXPOSE_INVALID_FORMAT, _plain(structure.expose_invalid_format)),
    (r.WORKDIR_RELATIVE_PATH, _plain(structure.workdir_relative_path)),
    (r.JSON_ARGS_RECOMMENDED, _plain(structure.json_args_recommended)),
    (r.MULTIPLE_INSTRUCTIONS_DISALLOWED, _plain(structure.multiple_instructions_disallowed)),
    (r.UNDEFINED_VAR, variables.undefined_var),
)


class LintReport(msgspec.Struct, frozen=True):
    """The findings and the configuration that selected them."""

    warnings: tuple[LintWarning, ...]
    config: CheckConfig

    @property
    def failed(self) -> bool:
        """True when ``error=true`` is in force and something was found."""
        return self.config.error and bool(self.warnings)


def lint(
    dockerfile: str | SyntaxTree | Dockerfile,
    *,
    build_args: Mapping[str, str] | None = None,
    base_env: Mapping[str, Mapping[str, str]] | None = None,
    config: CheckConfig | None = None,
    filename: str = "Dockerfile",
    build_target: str | None = None,
) -> LintReport:
    """Run every enabled rule on ``dockerfile``: its text, its syntax tree, or the
    typed :class:`~hoist.dockerfile.Dockerfile` (whose ``text`` is read again).

    ``config`` defaults to the ``BUILDKIT_DOCKERFILE_CHECK`` build arg when
    given, else the file's ``# check=`` directive. Build args count as defined
    variables (UndefinedVar). ``build_target`` (a stage name, or '' for the
    last stage) lints as ``docker build`` does: instruction-level findings in
    stages the target does not need are left out; None lints every stage, as
    ``docker build --check`` does.

    Raises:
        DockerfileError: the text does not parse (the parser's diagnostic), or
            the ``# check=`` directive is malformed (``invalid-check-directive``).
    """
    view = _view(dockerfile, filename)
    if config is None:
        config = _config(view, build_args or {}, filename)
    ctx = VarContext(dict(build_args or {}), dict(base_env or {}))
    found = _run(view, ctx, config)
    if build_target is not None:
        found = _reachable_only(view, found, build_target)
    return LintReport(tuple(found), config)


# Rules BuildKit runs while dispatching a stage's instructions, so only for
# the stages a build needs; the others look at the whole file.
_INSTRUCTION_RULES = frozenset(
    rule.name
    for rule in (
        r.JSON_ARGS_RECOMMENDED,
        r.MULTIPLE_INSTRUCTIONS_DISALLOWED,
        r.WORKDIR_RELATIVE_PATH,
        r.UNDEFINED_VAR,
        r.LEGACY_KEY_VALUE_FORMAT,
        r.SECRETS_USED_IN_ARG_OR_ENV,
        r.EXPOSE_PROTO_CASING,
        r.EXPOSE_INVALID_FORMAT,
        r.MAINTAINER_DEPRECATED,
    )
)


def _reachable_only(view: FileView, found: list[LintWarning], target: str) -> list[LintWarning]:
    needed = needed_stages(view, target)
    if needed is None:
        return found

    def keep(warning: LintWarning) -> bool:
        if warning.rule.name not in _INSTRUCTION_RULES:
            return True
        stage = stage_of_line(view, warning.line)
        return stage is None or stage in needed

    return [w for w in found if keep(w)]


CHECK_BUILD_ARG = "BUILDKIT_DOCKERFILE_CHECK"


def _config(
    view: FileView, build_args: Mapping[str, str], filename: str = "Dockerfile"
) -> CheckConfig:
    """The ``BUILDKIT_DOCKERFILE_CHECK`` build arg wins over the file's directive."""
    if CHECK_BUILD_ARG in build_args:
        return parse_check_options(build_args[CHECK_BUILD_ARG], filename="--build-arg")
    return parse_check_options(
        view.check or "",
        line=view.check_line or None,
        filename=filename,
        source="\n".join(view.lines),
    )


def _run(view: FileView, ctx: VarContext, config: CheckConfig) -> list[LintWarning]:
    found: list[LintWarning] = []
    for rule, fn in _CHECKS:
        if config.enabled(rule):
            found.extend(fn(view, ctx))
    order = {rule.name: i for i, (rule, _) in enumerate(_CHECKS)}
    return sorted(found, key=lambda w: (w.line, order[w.rule.name]))


def check(
    dockerfile: str | SyntaxTree | Dockerfile,
    *,
    build_args: Mapping[str, str] | None = None,
    base_env: Mapping[str, Mapping[str, str]] | None = None,
    config: CheckConfig | None = None,
    filename: str = "Dockerfile",
    build_target: str | None = None,
) -> list[LintWarning]:
    """Return the findings of every enabled rule, sorted by line (see :func:`lint`)."""
    report = lint(
        dockerfile,
        build_args=build_args,
        base_env=base_env,
        config=config,
        filename=filename,
        build_target=build_target,
    )
    return list(report.warnings)


def fix(
    text: str,
    *,
    build_args: Mapping[str, str] | None = None,
    base_env: Mapping[str, Mapping[str, str]] | None = None,
    config: CheckConfig | None = None,
    filename: str = "Dockerfile",
) -> FixResult:
    """Rewrite the fixable findings of ``text``; everything else stays byte-identical.

    Raises:
        DockerfileError: as :func:`lint`.
    """
    view = _view(text, filename)
    report = lint(text, build_args=build_args, base_env=base_env, config=config, filename=filename)
    first = [w for w in report.warnings if w.rule is r.CONSISTENT_INSTRUCTION_CASING]
    rest = [w for w in report.warnings if w.rule is not r.CONSISTENT_INSTRUCTION_CASING]
    return apply_fixes(text, view, first + rest)


def _view(dockerfile: str | SyntaxTree | Dockerfile, filename: str) -> FileView:
    """The lint view, from the real parser when it is available."""
    if not isinstance(dockerfile, str):
        if hasattr(dockerfile, "nodes"):
            return view_from_tree(dockerfile)  # type: ignore[arg-type]
        dockerfile, filename = dockerfile.text, dockerfile.filename  # a typed Dockerfile
    try:
        from hoist.dockerfile.syntax import parse_text
    except ImportError:  # the syntax layer is not installed: read the text directly
        return read_view(dockerfile)
    return view_from_tree(parse_text(dockerfile, filename))
