"""Stage planning: global ARGs in FROM lines, stage references, target pruning, cycles.

Pure: base images are *named* here (expanded FROM words), resolved later by
the engine. The plan keeps only the stages the target needs, dependencies
first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hoist.dockerfile import instructions as ins
from hoist.dockerfile.shell import expand_word
from hoist.errors import DockerfileError, InvalidDigest, InvalidReference, UserInputError
from hoist.models.platform import Platform
from hoist.models.reference import Reference
from hoist.plan.evaluate import evaluate
from hoist.plan.state import PLATFORM_ARGS, PROXY_ARGS, Scope, StageState


@dataclass(frozen=True, slots=True)
class Dependency:
    """A stage needs ``stage`` (an index) because of the instruction at ``line``."""

    stage: int
    line: int


@dataclass(frozen=True, slots=True)
class PlannedStage:
    """A stage with its FROM expanded and its references resolved.

    ``base_stage`` is set for ``FROM <stage>``; otherwise ``base`` is an image
    reference (or ``scratch``). ``images`` are images named by
    ``COPY --from`` / ``RUN --mount from=`` that are not stages.
    """

    stage: ins.Stage
    base: str
    base_stage: int | None
    platform: str | None
    depends_on: tuple[Dependency, ...]
    images: tuple[str, ...]

    @property
    def index(self) -> int:
        return self.stage.index


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """The stages to build for ``target``, dependencies before dependents."""

    dockerfile: ins.Dockerfile
    stages: tuple[PlannedStage, ...]
    target: int
    scope: Scope
    unused_build_args: tuple[str, ...]

    def stage(self, index: int) -> PlannedStage:
        """The planned stage with this file index. Raises KeyError if not planned."""
        for planned in self.stages:
            if planned.index == index:
                return planned
        raise KeyError(index)


def platform_args(target: Platform, build: Platform) -> tuple[tuple[str, str], ...]:
    """TARGETPLATFORM … BUILDVARIANT values for a target and a build platform."""
    values = []
    for prefix, p in (("TARGET", target), ("BUILD", build)):
        values += [(f"{prefix}PLATFORM", str(p)), (f"{prefix}OS", p.os),
                   (f"{prefix}ARCH", p.architecture), (f"{prefix}VARIANT", p.variant)]
    order = {name: i for i, name in enumerate(PLATFORM_ARGS)}
    return tuple(sorted(values, key=lambda kv: order[kv[0]]))


def _meta_values(df: ins.Dockerfile, build_args: Mapping[str, str],
                 plat: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str | None], ...]:
    env = dict(plat)
    values: dict[str, str | None] = {}
    for arg in df.meta_args:
        expanded, _ = evaluate(arg, StageState(scope=Scope(escape=df.escape), env=tuple(
            env.items())), df)
        for decl in expanded.args:  # type: ignore[union-attr]
            value = build_args.get(decl.name, decl.default)
            values[decl.name] = value
            if value is not None:
                env[decl.name] = value
    return tuple(values.items())


def _stage_error(df: ins.Dockerfile, line: int, message: str, code: str,
                 hint: str | None = None) -> DockerfileError:
    return DockerfileError(message, line=line, filename=df.filename, source=df.text,
                           code=code, hint=hint)


def _names(df: ins.Dockerfile) -> dict[str, int]:
    names: dict[str, int] = {}
    for stage in df.stages:
        if stage.name is None:
            continue
        if stage.name in names:
            raise _stage_error(df, stage.source.start, f"duplicate stage name {stage.name!r}",
                               "duplicate-stage-name")
        names[stage.name] = stage.index
    return names


@dataclass(frozen=True, slots=True)
class _Ctx:
    df: ins.Dockerfile
    names: dict[str, int]
    global_env: dict[str, str]
    scope: Scope

    def ref(self, word: str, line: int, what: str) -> int | str:
        """A stage index for a stage name or number, else the validated image reference."""
        if word.lower() in self.names:
            return self.names[word.lower()]
        if re.fullmatch(r"[0-9]{1,9}", word):
            if int(word) >= len(self.df.stages):
                raise _stage_error(self.df, line, f"{what}={word}: invalid stage index: the "
                                   f"file has {len(self.df.stages)} stages", "unknown-stage")
            return int(word)
        try:
            Reference.parse(word)
        except (InvalidReference, InvalidDigest) as exc:
            stages = "stages: " + (", ".join(sorted(self.names)) or "(none named)")
            if what == "FROM":
                raise _stage_error(self.df, line, f"FROM {word}: not a valid image reference: "
                                   f"{exc.message}", "invalid-base", hint=stages) from exc
            raise _stage_error(
                self.df, line, f"{what}={word}: no build stage named {word!r} and not a "
                f"valid image reference", "unknown-stage", hint=stages) from exc
        return word


def _plan_stage(ctx: _Ctx, stage: ins.Stage) -> PlannedStage:
    line = stage.source.start
    base = expand_word(stage.base, ctx.global_env, ctx.df.escape).value
    platform = None if stage.platform is None else expand_word(
        stage.platform, ctx.global_env, ctx.df.escape).value
    if not base:
        raise _stage_error(ctx.df, line, f"base name ({stage.base}) should not be blank",
                           "invalid-base")
    if platform is not None:
        try:
            Platform.parse(platform)
        except UserInputError as exc:
            raise _stage_error(ctx.df, line, f"FROM --platform={platform}: {exc.message}",
                               "invalid-platform") from exc
    deps: list[Dependency] = []
    images: list[str] = []
    base_stage = None
    if base.lower() == stage.name:
        raise _stage_error(ctx.df, line, f"circular dependency detected on stage: {stage.name}",
                           "stage-cycle")
    if base.lower() in ctx.names:
        base_stage = ctx.names[base.lower()]
        deps.append(Dependency(base_stage, line))
    elif base != "scratch":
        ctx.ref(base, line, "FROM")
    for target, at in _references(ctx, stage):
        resolved = ctx.ref(target, at, "--from")
        if isinstance(resolved, int):
            deps.append(Dependency(resolved, at))
        else:
            images.append(resolved)
    return PlannedStage(stage, base, base_stage, platform, tuple(deps), tuple(images))


def _references(ctx: _Ctx, stage: ins.Stage) -> list[tuple[str, int]]:
    """(``--from`` value, line) of COPY and RUN mounts, expanded with the stage's ARG/ENV."""
    state = StageState(scope=ctx.scope)
    found: list[tuple[str, int]] = []
    for instr in stage.instructions:
        if isinstance(instr, ins.Arg | ins.Env | ins.Copy | ins.Run):
            expanded, state = evaluate(instr, state, ctx.df)
            if isinstance(expanded, ins.Copy) and expanded.from_:
                found.append((expanded.from_, instr.source.start))
            if isinstance(expanded, ins.Run):
                found += [(m.from_, instr.source.start) for m in expanded.mounts if m.from_]
    return found


def _order(df: ins.Dockerfile, planned: dict[int, PlannedStage], target: int) -> list[int]:
    """Post-order walk from ``target`` (iterative); a back edge is a cycle error."""
    done: list[int] = []
    state: dict[int, str] = {}
    stack: list[tuple[int, int]] = [(target, 0)]
    state[target] = "active"
    while stack:
        index, pos = stack.pop()
        deps = planned[index].depends_on
        if pos < len(deps):
            stack.append((index, pos + 1))
            dep = deps[pos]
            if state.get(dep.stage) == "active":
                name = df.stages[dep.stage].name or str(dep.stage)
                raise _stage_error(df, dep.line, f"circular dependency detected on stage: "
                                   f"{name}", "stage-cycle")
            if dep.stage not in state:
                state[dep.stage] = "active"
                stack.append((dep.stage, 0))
        else:
            state[index] = "done"
            done.append(index)
    return done


def _target_index(df: ins.Dockerfile, names: dict[str, int], target: str | None) -> int:
    if target is None:
        return len(df.stages) - 1
    if target.lower() in names:
        return names[target.lower()]
    raise DockerfileError(
        f"target stage {target!r} could not be found", filename=df.filename,
        code="unknown-target", hint="stages: " + (", ".join(sorted(names)) or "(none named)"))


def _unused(df: ins.Dockerfile, stages: list[PlannedStage],
            build_args: Mapping[str, str]) -> tuple[str, ...]:
    declared = {d.name for a in df.meta_args for d in a.args}
    for planned in stages:
        for instr in planned.stage.instructions:
            if isinstance(instr, ins.Arg):
                declared |= {d.name for d in instr.args}
    exempt = PROXY_ARGS | set(PLATFORM_ARGS)
    return tuple(sorted(k for k in build_args if k not in declared and k not in exempt))


def plan_build(
    dockerfile: ins.Dockerfile, *, target: str | None = None,
    build_args: Mapping[str, str] | None = None, platform: Platform | None = None,
    build_platform: Platform | None = None,
) -> BuildPlan:
    """Plan the stages ``target`` (default: the last stage) needs.

    Raises:
        DockerfileError: ``unknown-target``, ``unknown-stage`` (a ``--from``
            that is neither a stage nor an image reference),
            ``duplicate-stage-name``, ``stage-cycle``, ``invalid-base``, or an
            expansion error — each naming the line where it applies.
    """
    build_args = dict(build_args or {})
    host = build_platform or Platform.host()
    plat = platform_args(platform or host, host)
    meta = _meta_values(dockerfile, build_args, plat)
    scope = Scope(tuple(build_args.items()), meta, plat, dockerfile.escape)
    names = _names(dockerfile)
    global_env = {**dict(plat), **{k: v for k, v in meta if v is not None}}
    ctx = _Ctx(dockerfile, names, global_env, scope)
    index = _target_index(dockerfile, names, target)
    planned: dict[int, PlannedStage] = {}
    pending = [index]
    while pending:
        current = pending.pop()
        if current not in planned:
            planned[current] = _plan_stage(ctx, dockerfile.stages[current])
            pending += [d.stage for d in planned[current].depends_on]
    order = [planned[i] for i in _order(dockerfile, planned, index)]
    return BuildPlan(dockerfile, tuple(order), index, scope,
                     _unused(dockerfile, order, build_args))
