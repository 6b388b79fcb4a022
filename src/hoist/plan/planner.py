"""Stage planning: global ARGs in FROM lines, stage references, target pruning, cycles.

Pure: base images are *named* here (expanded FROM words), resolved later by
the engine. The plan keeps only the stages the target needs, dependencies
first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from hoist.dockerfile import instructions as ins
from hoist.dockerfile.shell import expand_word
from hoist.errors import DockerfileError, InvalidDigest, InvalidReference, UserInputError
from hoist.models.platform import Platform
from hoist.models.reference import Reference
from hoist.plan.evaluate import evaluate
from hoist.plan.state import PLATFORM_ARGS, PROXY_ARGS, Scope, StageState


class Dependency(msgspec.Struct, frozen=True):
    """A stage needs ``stage`` (an index) because of the instruction at ``line``."""

    stage: int
    line: int


class PlannedStage(msgspec.Struct, frozen=True):
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


class BuildPlan(msgspec.Struct, frozen=True):
    """The stages to build for ``target``, dependencies before dependents."""

    dockerfile: ins.Dockerfile
    stages: tuple[PlannedStage, ...]
    target: int
    scope: Scope
    unused_build_args: tuple[str, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        """User-facing warnings (docker's wording for unconsumed build args)."""
        if not self.unused_build_args:
            return ()
        names = " ".join(self.unused_build_args)
        return (f"[Warning] One or more build-args [{names}] were not consumed",)

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
            value = build_args.get(decl.name, dict(plat).get(decl.name, decl.default))
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


class _Ctx(msgspec.Struct, frozen=True):
    df: ins.Dockerfile
    names: dict[str, int]
    global_env: dict[str, str]
    scope: Scope

    def stage_index(self, word: str) -> int | None:
        """The stage ``--from=word`` names (a name, or an index in range), else None."""
        if word.lower() in self.names:
            return self.names[word.lower()]
        if re.fullmatch(r"[0-9]{1,9}", word) and int(word) < len(self.df.stages):
            return int(word)
        return None

    def image(self, word: str, line: int, what: str) -> str:
        """Validate a word that names no stage as an image reference.

        Raises:
            DockerfileError: ``unknown-stage`` (or ``invalid-base`` for FROM).
        """
        stages = "stages: " + (", ".join(sorted(self.names)) or "(none named)")
        if re.fullmatch(r"[0-9]+", word):
            raise _stage_error(self.df, line, f"{what}={word}: invalid stage index: the file "
                               f"has {len(self.df.stages)} stages", "unknown-stage", hint=stages)
        try:
            Reference.parse(word)
        except (InvalidReference, InvalidDigest) as exc:
            if what == "FROM":
                raise _stage_error(self.df, line, f"FROM {word}: not a valid image reference: "
                                   f"{exc.message}", "invalid-base", hint=stages) from exc
            raise _stage_error(
                self.df, line, f"{what}={word}: no build stage named {word!r} and not a "
                f"valid image reference", "unknown-stage", hint=stages) from exc
        return word


class _Links(msgspec.Struct, frozen=True):
    """A stage's FROM (expanded) and ``--from`` words, before validation."""

    base: str
    base_stage: int | None
    platform: str | None
    refs: tuple[tuple[str, int], ...]


def _links(ctx: _Ctx, stage: ins.Stage) -> _Links:
    """Expand FROM and collect ``--from`` words.

    ``FROM <name>`` only sees stages defined *before* it (so FROM alone makes
    no cycle); ``COPY --from`` sees every stage.
    """
    base = expand_word(stage.base, ctx.global_env, ctx.df.escape).value
    platform = None if stage.platform is None else expand_word(
        stage.platform, ctx.global_env, ctx.df.escape).value
    earlier = ctx.names.get(base.lower())
    base_stage = earlier if earlier is not None and earlier < stage.index else None
    return _Links(base, base_stage, platform, tuple(_references(ctx, stage)))


def _validated(ctx: _Ctx, stage: ins.Stage, links: _Links) -> PlannedStage:
    line = stage.source.start
    if not links.base:
        raise _stage_error(ctx.df, line, f"base name ({stage.base}) should not be blank",
                           "invalid-base")
    if links.platform is not None:
        try:
            Platform.parse(links.platform)
        except UserInputError as exc:
            raise _stage_error(ctx.df, line, f"FROM --platform={links.platform}: "
                               f"{exc.message}", "invalid-platform") from exc
    if links.base_stage is None and links.base != "scratch":
        ctx.image(links.base, line, "FROM")
    images = tuple(ctx.image(word, at, "--from") for word, at in links.refs
                   if ctx.stage_index(word) is None)
    return PlannedStage(stage, links.base, links.base_stage, links.platform,
                        _dependencies(ctx, stage, links), images)


def _dependencies(ctx: _Ctx, stage: ins.Stage, links: _Links) -> tuple[Dependency, ...]:
    deps = [] if links.base_stage is None else [Dependency(links.base_stage, stage.source.start)]
    for word, at in links.refs:
        index = ctx.stage_index(word)
        if index is not None:
            deps.append(Dependency(index, at))
    return tuple(deps)


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


def _check_cycles(df: ins.Dockerfile, graph: dict[int, tuple[Dependency, ...]]) -> None:
    """Reject a cycle anywhere in the file (as BuildKit does), naming the closing line."""
    state: dict[int, str] = {}
    for root in graph:
        if root in state:
            continue
        state[root] = "active"
        stack: list[tuple[int, int]] = [(root, 0)]
        while stack:
            index, pos = stack.pop()
            deps = graph.get(index, ())
            if pos == len(deps):
                state[index] = "done"
                continue
            stack.append((index, pos + 1))
            dep = deps[pos]
            if state.get(dep.stage) == "active":
                name = df.stages[dep.stage].name or str(dep.stage)
                raise _stage_error(df, dep.line, f"circular dependency detected on stage: "
                                   f"{name}", "stage-cycle")
            if dep.stage not in state:
                state[dep.stage] = "active"
                stack.append((dep.stage, 0))


def _order(graph: dict[int, tuple[Dependency, ...]], target: int) -> list[int]:
    """Stages reachable from ``target``, dependencies first (graph is acyclic)."""
    done: list[int] = []
    seen = {target}
    stack: list[tuple[int, int]] = [(target, 0)]
    while stack:
        index, pos = stack.pop()
        deps = graph[index]
        if pos == len(deps):
            done.append(index)
            continue
        stack.append((index, pos + 1))
        if deps[pos].stage not in seen:
            seen.add(deps[pos].stage)
            stack.append((deps[pos].stage, 0))
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
    links: dict[int, _Links | DockerfileError] = {}
    for stage in dockerfile.stages:
        try:
            links[stage.index] = _links(ctx, stage)
        except DockerfileError as exc:  # only an error if the target needs this stage
            links[stage.index] = exc
    graph = {i: _dependencies(ctx, dockerfile.stages[i], item) if isinstance(item, _Links)
             else () for i, item in links.items()}
    _check_cycles(dockerfile, graph)
    planned = []
    for i in _order(graph, index):
        item = links[i]
        if isinstance(item, DockerfileError):
            raise item
        planned.append(_validated(ctx, dockerfile.stages[i], item))
    return BuildPlan(dockerfile, tuple(planned), index, scope,
                     _unused(dockerfile, planned, build_args))
