"""The build, start to end: plan, resolve bases, run the stages in order, label and tag.

Stages run one after the other in dependency order (the plan lists
dependencies first); only the stages the target needs are planned. Each
stage starts from its base (an image in the store, ``scratch``, or an
earlier stage's result), runs the base's ONBUILD triggers as part of its
FROM step, then its instructions through :class:`StageRunner`.
"""

from __future__ import annotations

import time

import msgspec
from msgspec.structs import replace

from hoist.builder import events as ev
from hoist.builder.context import BuildContext
from hoist.builder.result import BuildResult, StepResult
from hoist.builder.schedule import run_stages
from hoist.builder.stage import Position, StageRunner, image_content_key, step_failed
from hoist.builder.steps.config import scratch_image
from hoist.builder.vertices import stage_vertices, step_text
from hoist.dockerfile import Dockerfile, Instruction
from hoist.errors import BuildError, DockerfileError, ImageNotFound, InvalidReference
from hoist.image import Image
from hoist.image.mutate import set_container_config
from hoist.models.digest import Digest
from hoist.models.platform import Platform
from hoist.models.reference import Reference
from hoist.plan import BuildPlan, PlannedStage, onbuild_triggers, plan_build, state_from_config
from hoist.runtime.kept import new_id
from hoist.runtime.oci import sigterm_raises


class _Base(msgspec.Struct, frozen=True):
    image: Image
    image_id: Digest
    triggers: tuple[Instruction, ...]


class Executor:
    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx
        self.platform = Platform.host()
        self.results: dict[int, Position] = {}
        self.steps: list[StepResult] = []
        self.runner = StageRunner(ctx, self._resolve_from)

    def run(self) -> BuildResult:
        """Build the target; return its image and what each step did.

        Raises:
            DockerfileError, BuildError, UserInputError, StoreError…: the first failure.
        """
        started = time.monotonic()
        options = self.ctx.options
        plan = plan_build(
            self.ctx.dockerfile,
            target=options.target,
            build_args=dict(options.build_args),
            platform=self.platform,
        )
        warnings = self._warn_unused(plan)
        # the classic builder shows each --label as one more step after the Dockerfile's
        total = sum(1 + len(p.stage.instructions) for p in plan.stages) + len(options.labels)
        self.ctx.sink.emit(ev.BuildStarted(total, tuple(_stage_label(p) for p in plan.stages)))
        starts, number = {}, 0
        for planned in plan.stages:
            starts[planned.index] = number
            number += 1 + len(planned.stage.instructions)
        with sigterm_raises():
            run_stages(
                plan.stages,
                lambda p: self._run_stage(plan, p, starts[p.index], total),
                self.ctx.kill_containers,
            )
        self.steps.sort(key=lambda step: step.number)
        final = self.results[plan.target]
        image_id = self._finish(final, _target_stage(plan), number, total)
        tags = self._tag(image_id)
        seconds = time.monotonic() - started
        self.ctx.sink.emit(ev.BuildDone(str(image_id), tags, seconds))
        return BuildResult(str(image_id), tags, tuple(self.steps), seconds, warnings)

    def _warn_unused(self, plan: BuildPlan) -> tuple[str, ...]:
        if not plan.unused_build_args:
            return ()
        names = " ".join(sorted(plan.unused_build_args))
        message = f"One or more build-args [{names}] were not consumed"
        self.ctx.sink.emit(ev.BuildWarning(message))
        return (message,)

    def _run_stage(self, plan: BuildPlan, planned: PlannedStage, number: int, total: int) -> None:
        stage = planned.stage
        base = self._base(planned)
        state = state_from_config(base.image.config.config.to_json(), plan.scope)
        pos = Position(base.image, base.image_id, image_content_key(base.image), state)
        count = 1 + len(stage.instructions)
        label = _stage_label(planned)
        first, vertices = stage_vertices(planned, len(self.ctx.dockerfile.stages) > 1)
        number += 1
        text, line = step_text(stage.from_.original), stage.from_.source.start
        ref = ev.StepRef(number, total, label, 1, count, text, line, len(base.triggers),
                         vertex=first)  # fmt: skip
        pos = self._step(pos, base.triggers, ref, stage.from_)
        steps = zip(stage.instructions, vertices, strict=True)
        for position, (instr, vertex) in enumerate(steps, start=2):
            number += 1
            text, line = step_text(instr.original), instr.source.start
            ref = ev.StepRef(number, total, label, position, count, text, line, vertex=vertex)
            pos = self._step(pos, (instr,), ref, instr)
        self.results[stage.index] = pos

    def _step(
        self, pos: Position, items: tuple[Instruction, ...], ref: ev.StepRef, instr: Instruction
    ) -> Position:
        try:
            pos, result = self.runner.step(pos, items, ref)
        except BuildError as exc:
            raise step_failed(instr, exc, self.ctx.where(instr.source.start)) from exc
        self.steps.append(result)
        return pos

    def _base(self, planned: PlannedStage) -> _Base:
        if planned.base_stage is not None:
            parent = self.results[planned.base_stage]
            image = parent.image
            return _Base(image, parent.image_id, self._triggers(image, planned))
        if planned.base.lower() == "scratch":
            image = scratch_image(self.platform)
            return _Base(image, image.id, ())
        image, image_id = self._image(planned.base, planned.stage.from_.source.start)
        return _Base(image, image_id, self._triggers(image, planned))

    def _triggers(self, image: Image, planned: PlannedStage) -> tuple[Instruction, ...]:
        expressions = image.config.config.on_build
        if not expressions:
            return ()
        try:
            return tuple(onbuild_triggers(expressions, self.ctx.dockerfile.escape))
        except DockerfileError as exc:
            raise self._located(
                exc.message, planned.stage.from_.source.start, "invalid-onbuild"
            ) from exc

    def _image(self, ref: str, line: int) -> tuple[Image, Digest]:
        try:
            stored = self.ctx.store.get_image(ref)
        except ImageNotFound as exc:
            raise self._located(
                f"base image {ref!r} is not in the store",
                line,
                "base-image-not-found",
                hint="hoist looks only in its own store: `hoist load -i` or `hoist import` it, "
                "or build it first",
            ) from exc
        self._remember_base(ref, stored.id)
        return stored.image, stored.id

    def _remember_base(self, ref: str, image_id: Digest) -> None:
        """Note which tag gave a base image (a build from an ID is never replayed)."""
        try:
            name = str(Reference.parse(ref))
        except InvalidReference:
            self.ctx.inputs.spoil(f"base image {ref} is not a tag")
            return
        self.ctx.inputs.base(name, str(image_id))

    def _resolve_from(self, name: str) -> tuple[Image, Digest]:
        """``COPY --from``: a stage (by name or index) already built, else an image."""
        index = _stage_index(self.ctx.dockerfile, name)
        if index is not None and index in self.results:
            pos = self.results[index]
            return pos.image, pos.image_id
        return self._image(name, 0)

    def _located(
        self, message: str, line: int, code: str, hint: str | None = None
    ) -> DockerfileError:
        df = self.ctx.dockerfile
        return DockerfileError(
            message, line=line or None, filename=df.filename, source=df.text, code=code, hint=hint
        )

    def _finish(self, final: Position, target: PlannedStage, number: int, total: int) -> Digest:
        """Apply ``--label`` to the target's image: one step and image per label, by key.

        As the classic builder shows them (``Step 3/4 : LABEL k=v``), each with
        its image; unlike it (and like BuildKit) no history entry is added.
        """
        image, image_id = final.image, final.image_id
        labels = self.ctx.options.labels
        stage, steps = _stage_label(target), 1 + len(target.stage.instructions)
        for offset, key in enumerate(sorted(labels), start=1):
            text = f"LABEL {key}={labels[key]}"
            ref = ev.StepRef(number + offset, total, stage, steps + offset,
                             steps + len(labels), text, 0, cli_label=True)  # fmt: skip
            image, image_id = self._label_step(ref, image, image_id, key, labels[key])
        return image_id

    def _label_step(
        self, ref: ev.StepRef, image: Image, parent: Digest, key: str, value: str
    ) -> tuple[Image, Digest]:
        sink, started = self.ctx.sink, time.monotonic()
        sink.emit(ev.StepStarted(ref))
        cid = new_id()
        sink.emit(ev.ContainerStarted(ref, cid))
        container = image.config.config
        image = set_container_config(
            image, replace(container, labels={**container.labels, key: value})
        )
        image_id = self.ctx.store.write_image(image, parent=parent)
        sink.emit(ev.ContainerRemoved(ref, cid))
        sink.emit(ev.StepDone(ref, str(image_id), False, time.monotonic() - started))
        return image, image_id

    def _tag(self, image_id: Digest) -> tuple[str, ...]:
        shown = []
        for text in self.ctx.options.tags:
            ref = Reference.parse(text)
            self.ctx.store.tag(image_id, ref)
            shown.append(ref.familiar)
        return tuple(shown)


def _target_stage(plan: BuildPlan) -> PlannedStage:
    return next(p for p in plan.stages if p.index == plan.target)


def _stage_label(planned: PlannedStage) -> str:
    return planned.stage.name or str(planned.stage.index)


def _stage_index(df: Dockerfile, name: str) -> int | None:
    """The stage ``COPY --from=name`` means: by index or (case-insensitive) name."""
    if name.isdigit():
        return int(name) if int(name) < len(df.stages) else None
    return next((stage.index for stage in df.stages if stage.name == name.lower()), None)
