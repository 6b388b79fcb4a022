"""RUN: the command in an intermediate container on the step's snapshot.

The container sees the stage's environment (ENV, then the ARGs in scope),
runs as the stage's USER resolved from the image's own passwd and group
files, in WORKDIR (created when missing, as docker does). Its output goes to
the event sink as it comes; a non-zero exit becomes a :class:`BuildError`
carrying the last lines of that output.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import replace

from hoist.builder.context import BuildContext
from hoist.dockerfile import Run
from hoist.errors import BuildError, UserInputError
from hoist.fs.resolve import Root
from hoist.plan import StageState, run_argv
from hoist.plan.evaluate import heredoc_script
from hoist.runtime.oci import RunRequest
from hoist.runtime.spec import BindMount, ProcessSpec
from hoist.runtime.users import resolve_user
from hoist.snapshot.base import MutableSnapshot

TAIL_LINES = 20
# BuildKit's RUN leaves these mount points in the layer (as empty 0755 dirs) when the
# image lacks them; hoist creates them before the container starts so its layer does too.
MOUNT_POINT_DIRS = ("/dev", "/etc", "/proc", "/sys")
SUPPORTED_FLAGS = frozenset({"network"})


class RunStep(msgspec.Struct, frozen=True):
    instruction: Run
    state: StageState
    container_id: str  # 64 hex; the runtime knows it as ``hoist-<id>``

    @property
    def runtime_id(self) -> str:
        return f"hoist-{self.container_id}"


class CommandFailed(BuildError):
    """The RUN command exited non-zero; ``process`` is what ran (for keeping the container)."""

    def __init__(self, message: str, *, process: ProcessSpec, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.process = process


def network_mode(ctx: BuildContext, instr: Run) -> str:
    """RUN --network wins over ``hoist build --network``; "default" is the host's network."""
    mode = instr.network or ctx.options.network
    if mode not in ("default", "host", "none"):
        raise UserInputError(f"RUN --network={mode}: want default, host or none")
    return "none" if mode == "none" else "host"


def run_in(
    ctx: BuildContext, snap: MutableSnapshot, step: RunStep, output: Callable[[str, bytes], None]
) -> ProcessSpec:
    """Run the step's command in ``snap``'s rootfs; return the process that ran.

    Raises:
        CommandFailed: the command exited non-zero.
        UserInputError: the USER cannot be resolved in the image.
        ContainerError: the runtime failed.
    """
    process = step_process(ctx, snap, step)
    tail: deque[str] = deque(maxlen=TAIL_LINES)

    def collect(stream: str, data: bytes) -> None:
        tail.extend(data.decode("utf-8", errors="replace").splitlines())
        output(stream, data)

    with tempfile.TemporaryDirectory(dir=ctx.store.root, prefix="run-") as scratch:
        mounts = _script_mounts(step.instruction, Path(scratch))
        request = RunRequest(
            replace(process, mounts=mounts),
            snap.rootfs,
            ctx.store.root / "containers",
            output=collect,
            container_id=step.runtime_id,
        )
        with ctx.container(step.runtime_id):
            status = ctx.runtime.run(request)
    if status != 0:
        raise CommandFailed(
            f"The command '{' '.join(process.args)}' returned a non-zero code: {status}",
            process=process,
            line=step.instruction.source.start,
            exit_status=status,
            output_tail=tuple(tail),
        )
    return process


def step_process(ctx: BuildContext, snap: MutableSnapshot, step: RunStep) -> ProcessSpec:
    """The step's process: argv, env, the USER resolved in the image, WORKDIR (created).

    Raises:
        UserInputError: the USER cannot be resolved, or WORKDIR cannot be made.
    """
    state = step.state
    user = resolve_user(snap.rootfs, state.user)
    cwd = state.workdir or "/"
    for path in (*MOUNT_POINT_DIRS, cwd):
        _ensure_dir(snap, path)
    env = dict(state.run_env())
    env.setdefault("HOME", user.home or "/")
    argv = run_argv(step.instruction, state.shell)
    return ProcessSpec(
        args=argv,
        env=tuple(f"{k}={v}" for k, v in env.items()),
        cwd=cwd,
        uid=user.uid,
        gid=user.gid,
        additional_gids=user.additional_gids,
        hostname=step.container_id[:12],
        network=network_mode(ctx, step.instruction),
    )


def _script_mounts(instr: Run, scratch: Path) -> tuple[BindMount, ...]:
    """``RUN <<EOF`` with a ``#!`` body: the body as an executable file at /dev/pipes/NAME."""
    script = heredoc_script(instr)
    if script is None:
        return ()
    path = scratch / "script"
    path.write_text(script.content)
    path.chmod(0o755)
    return (BindMount(str(path), f"/dev/pipes/{script.name}", readonly=True),)


def _ensure_dir(snap: MutableSnapshot, path: str) -> None:
    try:
        with Root(snap.rootfs) as root:
            os.close(root.mkdir_all(path))
    except OSError as exc:
        raise UserInputError(f"creating the working directory {path}: {exc.strerror}") from exc
