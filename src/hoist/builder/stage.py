"""One stage, step by step: evaluate, key, probe the cache, execute a miss, commit.

For every instruction the runner expands it against the stage state
(:func:`hoist.plan.evaluate`), computes its cache key from the parent key, the
expanded instruction, the build args that reach it and the checksums of what
it reads, and looks the key up. A hit reuses the intermediate image without
running anything; a miss executes the step (in an intermediate container for
RUN, COPY, ADD and WORKDIR), commits an intermediate image with its parent
recorded, and records the key with its components. A miss does not stop
probing: a later step whose key is unchanged hits again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import msgspec

from hoist.builder import events as ev
from hoist.builder.commit import commit_snapshot
from hoist.builder.context import BuildContext
from hoist.builder.keep import RunRecord, keep_failed, keep_succeeded, keeps, kept_hint
from hoist.builder.result import StepResult
from hoist.builder.steps.config import with_state
from hoist.builder.steps.files import (
    ADD_FLAGS,
    COPY_FLAGS,
    SourceRoot,
    apply_copy,
    make_workdir,
    sources_component,
)
from hoist.builder.steps.run import SUPPORTED_FLAGS as RUN_FLAGS
from hoist.builder.steps.run import CommandFailed, RunStep, run_in
from hoist.cache.key import CacheKey, canonical_json, content_key, explain_miss, step_key
from hoist.dockerfile import (
    Add,
    Cmd,
    Copy,
    Entrypoint,
    Healthcheck,
    Instruction,
    Maintainer,
    Run,
    Workdir,
    require_supported,
)
from hoist.errors import BuildError, HoistError, ImageNotFound
from hoist.image import History, Image
from hoist.image.mutate import append_history, set_created, set_fields
from hoist.models.digest import Digest
from hoist.plan import StageState, created_by, creates_layer, evaluate
from hoist.runtime.kept import new_id
from hoist.runtime.oci import new_container_id
from hoist.runtime.spec import ProcessSpec
from hoist.snapshot.base import MutableSnapshot
from hoist.snapshot.lowers import image_lowers, prepared

HEALTHCHECK_FLAGS = frozenset({"interval", "timeout", "start-period", "start-interval", "retries"})
SUPPORTED = {Run: RUN_FLAGS, Copy: COPY_FLAGS, Add: ADD_FLAGS, Healthcheck: HEALTHCHECK_FLAGS}
#: Why every step misses with ``--no-cache``.
NO_CACHE_REASON = "cache disabled (--no-cache)"


class Position(msgspec.Struct, frozen=True):
    """The current image of a stage, its cache key and its state."""

    image: Image
    image_id: Digest
    key: CacheKey
    state: StageState


class Outcome(msgspec.Struct, frozen=True):
    position: Position
    cached: bool
    miss_reason: str | None


FromResolver = Callable[[str], tuple[Image, Digest]]


class StageRunner:
    """Runs instructions on a :class:`Position`; ``resolve_from`` maps ``--from`` to images."""

    def __init__(self, ctx: BuildContext, resolve_from: FromResolver) -> None:
        self.ctx = ctx
        self.resolve_from = resolve_from

    # -- one Dockerfile step, with its events -----------------------------------------------

    def step(
        self, pos: Position, items: tuple[Instruction, ...], ref: ev.StepRef
    ) -> tuple[Position, StepResult]:
        """Run ``items`` as one step: an instruction, or a FROM's ONBUILD triggers (maybe none).

        A step is reported as cached when it ran something and every part hit.
        """
        self.ctx.sink.emit(ev.StepStarted(ref))
        started = time.monotonic()
        outcomes: list[Outcome] = []
        try:
            for item in items:
                outcome = self.apply(pos, item, ref)
                pos = outcome.position
                outcomes.append(outcome)
        except Exception as exc:
            message = getattr(exc, "message", str(exc))
            self.ctx.sink.emit(ev.StepFailed(ref, message, time.monotonic() - started))
            raise
        seconds = time.monotonic() - started
        cached = bool(outcomes) and all(o.cached for o in outcomes)
        reason = "; ".join(dict.fromkeys(o.miss_reason for o in outcomes if o.miss_reason)) or None
        if cached:
            self.ctx.sink.emit(ev.StepCached(ref, str(pos.image_id)))
        self.ctx.sink.emit(ev.StepDone(ref, str(pos.image_id), cached, seconds, reason))
        result = StepResult(
            ref.number, ref.stage, ref.text, ref.line, cached, str(pos.image_id), seconds, reason
        )
        return pos, result

    # -- one instruction: key, probe, execute -------------------------------------------------

    def apply(self, pos: Position, instr: Instruction, ref: ev.StepRef) -> Outcome:
        supported = SUPPORTED.get(type(instr), frozenset())
        require_supported(instr, supported, self.ctx.dockerfile)
        expanded, after = evaluate(instr, pos.state, self.ctx.dockerfile)
        from_image = self._from_image(expanded)
        sources = self._sources(expanded, from_image)
        key = step_key(
            image_content_key(pos.image),
            fingerprint(expanded),
            build_args=dict(after.build_args_reaching()),
            sources=sources,
        )
        hit = self._probe(key)
        if hit is not None:
            return Outcome(Position(hit, hit.id, key, after), True, None)
        reason = self._explain(key)
        image = self._execute(pos, expanded, after, ref, from_image)
        image_id = self.ctx.store.write_image(image, parent=pos.image_id)
        self.ctx.store.cache_put(key.digest, image_id, key.to_json())
        self.ctx.store.cache_put(self._site(key), image_id, key.to_json())
        return Outcome(Position(image, image_id, key, after), False, reason)

    def _from_image(self, instr: Instruction) -> tuple[Image, Digest] | None:
        if isinstance(instr, Copy) and instr.from_:
            return self.resolve_from(instr.from_)
        return None

    def _sources(
        self, instr: Instruction, from_image: tuple[Image, Digest] | None
    ) -> list[dict[str, Any]]:
        if not isinstance(instr, Copy | Add):
            return []
        context = self._context_root()
        image_id = str(from_image[1]) if from_image else None
        return sources_component(self.ctx, instr, context, image_id)

    def _context_root(self) -> SourceRoot | None:
        if self.ctx.context_dir is None:
            return None
        return SourceRoot(self.ctx.context_dir, keep_owner=False, label="build context")

    def _probe(self, key: CacheKey) -> Image | None:
        if self.ctx.options.no_cache:
            return None
        entry = self.ctx.store.cache_get(key.digest)
        if entry is None:
            return None
        try:
            return self.ctx.store.get_image(entry[0]).image
        except ImageNotFound:
            return None

    def _site(self, key: CacheKey) -> str:
        """Where a step stands (parent + instruction): the entry to compare a miss with."""
        site = {
            "parent": key.components.get("parent"),
            "instruction": key.components.get("instruction"),
        }
        return "site:sha256:" + hashlib.sha256(canonical_json(site)).hexdigest()

    def _explain(self, key: CacheKey) -> str:
        if self.ctx.options.no_cache:  # whatever else changed since the last build
            return NO_CACHE_REASON
        entry = self.ctx.store.cache_get(self._site(key))
        old = json.loads(entry[1]) if entry is not None else None
        if old is None:
            # The same instruction after another parent: the parent changed.
            return "no earlier build of this step with this parent"
        return explain_miss(key.components, old)

    # -- executing a miss ----------------------------------------------------------------------

    def _execute(
        self,
        pos: Position,
        instr: Instruction,
        after: StageState,
        ref: ev.StepRef,
        from_image: tuple[Image, Digest] | None,
    ) -> Image:
        command_set = isinstance(instr, Cmd | Entrypoint)
        image = set_created(
            with_state(pos.image, after, command_set=command_set), self.ctx.created()
        )
        if isinstance(instr, Maintainer):
            image = set_fields(image, author=instr.name)
        history = History(
            created=self.ctx.created(), created_by=created_by(instr, pos.state, after) or ""
        )
        if isinstance(instr, Run | Workdir | Copy | Add):
            return self._in_snapshot(image, pos, instr, after, ref, history, from_image)
        self._container_events(ref, lambda: None)
        return append_history(image, history) if history.created_by else image

    def _container_events(
        self, ref: ev.StepRef, body: Callable[[], None], cid: str | None = None
    ) -> None:
        """``Running in`` / ``Removing intermediate container`` around ``body``."""
        cid = cid or new_id()
        self.ctx.sink.emit(ev.ContainerStarted(ref, _display_id(cid)))
        body()
        self.ctx.sink.emit(ev.ContainerRemoved(ref, _display_id(cid)))

    def _in_snapshot(
        self,
        image: Image,
        pos: Position,
        instr: Instruction,
        after: StageState,
        ref: ev.StepRef,
        history: History,
        from_image: tuple[Image, Digest] | None,
    ) -> Image:
        store = self.ctx.store
        cid = new_id()
        lowers = image_lowers(store, pos.image)
        with ExitStack() as stack:
            snap = stack.enter_context(prepared(store, self.ctx.snapshotter, cid, lowers))
            rootfs = snap.rootfs
            if isinstance(instr, Run):
                return self._run(snap, pos, RunStep(instr, after, cid), ref, image, history)
            if isinstance(instr, Workdir):
                mkdir = lambda: make_workdir(rootfs, after.workdir, after.user)  # noqa: E731
                self._container_events(ref, mkdir, cid)
            else:
                source = self._source_root(stack, from_image)
                apply_copy(self.ctx, instr, source, rootfs, pos.state.workdir)  # type: ignore[arg-type]
            return commit_snapshot(
                store,
                snap,
                image,
                history,
                source_date_epoch=self.ctx.source_date_epoch,
                always_layer=creates_layer(instr, after.workdir),
            )
        raise AssertionError("unreachable")

    def _run(
        self,
        snap: MutableSnapshot,
        pos: Position,
        step: RunStep,
        ref: ev.StepRef,
        image: Image,
        history: History,
    ) -> Image:
        """RUN in its container; keep the container as ``--rm``/``--force-rm`` say."""
        cid, started = step.container_id, time.time()
        self.ctx.sink.emit(ev.ContainerStarted(ref, cid))
        try:
            process = run_in(self.ctx, snap, step, self._output(ref))
        except CommandFailed as exc:
            if keeps(self.ctx.options, failed=True) and not self.ctx.stopping:
                run = self._run_record(pos, step, ref, started, exc.process)
                self._keep_failed(snap, run, exc, ref)
            raise
        committed = commit_snapshot(self.ctx.store, snap, image, history,
                                    source_date_epoch=self.ctx.source_date_epoch,
                                    always_layer=creates_layer(step.instruction))  # fmt: skip
        if keeps(self.ctx.options, failed=False):
            run = self._run_record(pos, step, ref, started, process)
            keep_succeeded(self.ctx.store, run, committed)
            self.ctx.sink.emit(ev.ContainerKept(ref, cid))
        else:
            self.ctx.sink.emit(ev.ContainerRemoved(ref, cid))
        return committed

    def _keep_failed(
        self, snap: MutableSnapshot, run: RunRecord, exc: CommandFailed, ref: ev.StepRef
    ) -> None:
        """Keep a failed RUN's container; a failure to keep it only warns (the step's
        own error is the one to report)."""
        try:
            keep_failed(self.ctx.store, snap, run, exc.exit_status or 1)
        except HoistError as failure:
            self.ctx.sink.emit(ev.BuildWarning(f"keeping the failed step's container: {failure}"))
            return
        self.ctx.sink.emit(ev.ContainerKept(ref, run.container_id))
        exc.hint = kept_hint(run.container_id)

    def _run_record(
        self, pos: Position, step: RunStep, ref: ev.StepRef, started: float, process: ProcessSpec
    ) -> RunRecord:
        return RunRecord(
            container_id=step.container_id,
            started=started,
            parent=pos.image,
            parent_id=str(pos.image_id),
            instruction=ref.text,
            line=ref.line,
            dockerfile=self.ctx.dockerfile.filename,
            stage=ref.stage,
            process=process,
            user=step.state.user or "",
        )

    def _source_root(
        self, stack: ExitStack, from_image: tuple[Image, Digest] | None
    ) -> SourceRoot | None:
        if from_image is None:
            return self._context_root()
        image, image_id = from_image
        lowers = image_lowers(self.ctx.store, image)
        snap = stack.enter_context(
            prepared(self.ctx.store, self.ctx.snapshotter, f"src-{new_container_id()}", lowers)
        )
        return SourceRoot(Path(snap.rootfs), keep_owner=True, label=f"image {image_id.short}")

    def _output(self, ref: ev.StepRef) -> Callable[[str, bytes], None]:
        def emit(stream: str, data: bytes) -> None:
            self.ctx.sink.emit(ev.StepOutput(ref, stream, data))

        return emit


def image_content_key(image: Image) -> CacheKey:
    """The parent component of a step's key: what the image holds, not how it was made."""
    config = image.config
    return content_key(
        [str(d) for d in config.rootfs.diff_ids],
        {"config": config.config.to_json(), "author": config.author},
        f"{config.os}/{config.architecture}/{config.variant}",
    )


def _display_id(cid: str) -> str:
    """The 12-hex id shown for an intermediate container (``hoist-`` prefix dropped)."""
    return cid.removeprefix("hoist-")


def fingerprint(instr: Instruction) -> dict[str, Any]:
    """The expanded instruction as cache-key data: every field but where it stands."""
    data = _as_dict(instr)
    for name in ("source", "original"):
        data.pop(name, None)
    data["flags"] = sorted(data.get("flags", ()))
    return {"keyword": instr.keyword, "fields": json.loads(json.dumps(data, default=str))}


def _as_dict(value: Any) -> Any:
    """``value`` with each struct in it, nested ones too, as a dict of its fields."""
    if isinstance(value, msgspec.Struct):
        return {name: _as_dict(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, list | tuple):
        return [_as_dict(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_dict(item) for key, item in value.items()}
    return value


def step_failed(instr: Instruction, exc: BuildError, where: str) -> BuildError:
    """The build error a user sees: the Dockerfile line first, then what failed."""
    return BuildError(
        f"{where}: {instr.keyword}: {exc.message}",
        line=exc.line,
        exit_status=exc.exit_status,
        output_tail=exc.output_tail,
        hint=exc.hint,
    )
