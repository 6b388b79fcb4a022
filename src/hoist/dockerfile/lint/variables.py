"""Rules about variables and FROM: UndefinedVar, UndefinedArgInFrom,
InvalidDefaultArgInFrom, RedundantTargetPlatform, FromPlatformFlagConstDisallowed,
SecretsUsedInArgOrEnv."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

import msgspec

from hoist.dockerfile.lint import registry as r
from hoist.dockerfile.lint.model import FileView, Instr, StageView
from hoist.dockerfile.lint.registry import LintWarning
from hoist.dockerfile.lint.words import scan
from hoist.errors import HoistError
from hoist.models.platform import Platform
from hoist.models.reference import Reference

PLATFORM_ARGS = (
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
)
# Build args BuildKit reads itself: never "undefined".
_NOT_ENV_ARGS = ("BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE")
# What the engine assumes of a base image whose config it has not seen.
DEFAULT_BASE_ENV = ("PATH",)
# Instructions whose words BuildKit expands (RUN/CMD/ENTRYPOINT are left to the shell).
_EXPANDED = ("add", "copy", "env", "expose", "label", "stopsignal", "user", "volume", "workdir")

_SECRET = re.compile(
    r"(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(r"(?:_|^)(?:public)(?:_|$)", re.IGNORECASE)


class VarContext(msgspec.Struct, frozen=True):
    """What the variable rules know beyond the file: ``--build-arg`` values and
    the environment of base images by name (missing: only ``PATH`` assumed)."""

    build_args: Mapping[str, str] = msgspec.field(default_factory=dict)
    base_env: Mapping[str, Mapping[str, str]] = msgspec.field(default_factory=dict)


def is_secret_key(key: str) -> bool:
    """BuildKit's test for a secret-looking ARG/ENV name (``API_KEY``, not ``PUBLIC_KEY``)."""
    return _NOT_SECRET.search(key) is None and _SECRET.search(key) is not None


_SUGGEST_DISTANCE = 3  # suggestions must be closer than this (BuildKit, like HCL)
_MAX_SUGGEST_OPTIONS = 256  # past this a file is generated; skip the O(n) search


def suggest(name: str, options: Iterable[str]) -> str:
    """The closest option at edit distance 1 or 2 (BuildKit's ``suggest``), or ''.

    Files with more than 256 candidate names get no suggestion, so a
    generated Dockerfile cannot make linting quadratic.
    """
    pool = set(options)
    if len(pool) > _MAX_SUGGEST_OPTIONS or name in pool:
        return ""
    best, best_distance = "", _SUGGEST_DISTANCE
    for option in sorted(pool):
        if abs(len(option) - len(name)) >= best_distance:
            continue
        distance = _levenshtein(name, option, best_distance)
        if distance < best_distance:
            best, best_distance = option, distance
    return best


def _levenshtein(a: str, b: str, cutoff: int) -> int:
    """Edit distance of ``a`` and ``b``, or ``cutoff`` as soon as it must reach it."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        if min(row) >= cutoff:
            return cutoff
    return row[-1]


# --- ARG and ENV keys -------------------------------------------------------------------------


def _declared_names(instr: Instr) -> list[str]:
    """Names an ARG or ENV sets (``ENV k v`` sets only ``k``)."""
    if instr.name == "arg":
        return [word.partition("=")[0] for word in instr.args]
    if instr.name == "env" and instr.args:
        if instr.legacy_kv:
            return [instr.args[0]]
        return [word.partition("=")[0] for word in instr.args if "=" in word]
    return []


def secrets_used_in_arg_or_env(view: FileView) -> Iterator[LintWarning]:
    for instr in view.all_instrs():
        if instr.name not in ("arg", "env"):
            continue
        for key in _declared_names(instr):
            if is_secret_key(key):
                message = (
                    "Do not use ARG or ENV instructions for sensitive data "
                    f'({instr.name.upper()} "{key}")'
                )
                yield LintWarning(r.SECRETS_USED_IN_ARG_OR_ENV, message, instr.source)


# --- FROM -------------------------------------------------------------------------------------


def _meta_defaults(view: FileView) -> dict[str, str | None]:
    """Global ARGs in order, each with its default (None when it has none)."""
    out: dict[str, str | None] = {}
    for instr in view.meta:
        for word in instr.args:
            key, eq, value = word.partition("=")
            env = {k: v for k, v in out.items() if v is not None}
            out[key] = scan(value, env, view.escape)[0] if eq else None
    return out


def undefined_arg_in_from(view: FileView) -> Iterator[LintWarning]:
    declared = set(_meta_defaults(view)) | set(PLATFORM_ARGS)
    for stage in view.stages:
        words = [stage.base, stage.from_.flag("platform") or ""]
        for word in words:
            for ref in scan(word, {}, view.escape)[1]:
                if ref.name not in declared:
                    hint = suggest(ref.name, declared)
                    message = f"FROM argument '{ref.name}' is not declared"
                    if hint:
                        message += f" (did you mean {hint}?)"
                    yield LintWarning(r.UNDEFINED_ARG_IN_FROM, message, stage.from_.source)


def invalid_default_arg_in_from(view: FileView) -> Iterator[LintWarning]:
    """A FROM whose base, expanded with the global ARG defaults, is not an image name."""
    defaults = {k: v for k, v in _meta_defaults(view).items() if v is not None}
    stage_names = {s.name.lower() for s in view.stages if s.name}
    for stage in view.stages:
        value, refs = scan(stage.base, defaults, view.escape)
        if not refs or value.lower() in stage_names or value == "scratch":
            continue
        if not _valid_reference(value):
            message = (
                f"Default value for ARG {stage.base} results in empty or invalid base image name"
            )
            yield LintWarning(r.INVALID_DEFAULT_ARG_IN_FROM, message, stage.from_.source)


def _valid_reference(text: str) -> bool:
    if not text:
        return False
    try:
        Reference.parse(text)
    except HoistError:
        return False
    return True


def redundant_target_platform(view: FileView) -> Iterator[LintWarning]:
    for stage in view.stages:
        platform = stage.from_.flag("platform")
        if platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
            message = (
                f"Setting platform to predefined {platform} in FROM is redundant as this is "
                "the default behavior"
            )
            yield LintWarning(r.REDUNDANT_TARGET_PLATFORM, message, stage.from_.source)


def from_platform_flag_const_disallowed(view: FileView) -> Iterator[LintWarning]:
    """A constant ``--platform``, unless the stage name mentions its OS or architecture."""
    for stage in view.stages:
        platform = stage.from_.flag("platform")
        if not platform or scan(platform, {}, view.escape)[1]:
            continue
        if _named_for(stage, platform):
            continue
        message = f'FROM --platform flag should not use constant value "{platform}"'
        yield LintWarning(r.FROM_PLATFORM_FLAG_CONST_DISALLOWED, message, stage.from_.source)


def _named_for(stage: StageView, platform: str) -> bool:
    if not stage.name:
        return False
    try:
        parsed = Platform.parse(platform)
    except HoistError:
        return False
    name = stage.name.lower()
    return parsed.os.lower() in name or parsed.architecture.lower() in name


# --- UndefinedVar -----------------------------------------------------------------------------


def undefined_var(view: FileView, ctx: VarContext) -> Iterator[LintWarning]:
    """Variables used in an instruction BuildKit expands (even as ``${x:-d}``:
    its lexer looks ``x`` up all the same) that no ARG, ENV, build arg, base
    image or stage ancestor defines."""
    inherited: dict[str, set[str]] = {}
    for stage in view.stages:
        known = _base_names(stage, ctx, inherited)
        for instr in stage.instrs:
            if instr.name == "arg":
                yield from _undefined_in_arg(instr, known, ctx, view.escape)
                continue
            yield from _undefined_in(instr, known, ctx, view.escape)
            if instr.name == "env":  # every value saw the environment from before
                known.update(_declared_names(instr))
        _remember(inherited, stage, known)


def _undefined_in_arg(
    instr: Instr, known: set[str], ctx: VarContext, escape: str
) -> Iterator[LintWarning]:
    """ARG names are declared one by one (a declared ARG is defined, even
    empty); a default is only expanded when no build arg overrides it."""
    for word in instr.args:
        key, _, default = word.partition("=")
        if key not in ctx.build_args:
            yield from _report([default], known, ctx, escape, instr)
        known.add(key)


def _base_names(stage: StageView, ctx: VarContext, inherited: dict[str, set[str]]) -> set[str]:
    base = stage.base.lower()
    if base in inherited:
        return set(inherited[base])
    env = ctx.base_env.get(stage.base)
    return set(env) if env is not None else set(DEFAULT_BASE_ENV)


def _remember(table: dict[str, set[str]], stage: StageView, names: set[str]) -> None:
    table[str(stage.index)] = names
    if stage.name:
        table[stage.name.lower()] = names


def _undefined_in(
    instr: Instr, known: set[str], ctx: VarContext, escape: str
) -> Iterator[LintWarning]:
    if instr.name not in _EXPANDED:
        return
    words = [v for _, v in instr.flags if v] + list(instr.args)
    if instr.name in ("copy", "add"):
        words += instr.expanded_heredocs
    yield from _report(words, known, ctx, escape, instr)


def _report(
    words: list[str], known: set[str], ctx: VarContext, escape: str, instr: Instr
) -> Iterator[LintWarning]:
    reported: set[str] = set()
    for word in words:
        for ref in scan(word, {}, escape)[1]:
            name = ref.name
            if name in known or name in reported:
                continue
            if name in ctx.build_args or name in _NOT_ENV_ARGS:
                continue
            reported.add(name)
            yield _undefined_warning(name, known, instr)


def _undefined_warning(name: str, known: set[str], instr: Instr) -> LintWarning:
    message = f"Usage of undefined variable '${name}'"
    hint = suggest(name, known)
    if hint:
        message += f" (did you mean ${hint}?)"
    return LintWarning(r.UNDEFINED_VAR, message, instr.source)
