"""Run an image in the foreground, like ``docker run``: what ``hoist run`` does.

:func:`container_process` is the pure part: the image config (ENTRYPOINT, CMD,
Env, WorkingDir, User) combined with the command-line overrides, Docker's way.
:func:`run_image` does the rest: unpack the image's layers once into the
store, prepare a snapshot over them (:mod:`hoist.snapshot.lowers`), resolve
the user inside it, run the container through crun or runc, and remove the
snapshot whatever happens.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import msgspec

from hoist.errors import UserInputError
from hoist.fs.resolve import Root
from hoist.image.config import ContainerConfig
from hoist.runtime.oci import OciRuntime, RunRequest, RuntimeName, new_container_id, sigterm_raises
from hoist.runtime.spec import NetworkMode, ProcessSpec
from hoist.runtime.users import ExecUser, resolve_user

if TYPE_CHECKING:
    from hoist.store.store import Store


class RunOptions(msgspec.Struct, frozen=True):
    """The ``docker run``-like overrides; None/empty means "from the image"."""

    command: tuple[str, ...] = ()
    entrypoint: str | None = None
    env: tuple[str, ...] = ()
    workdir: str | None = None
    user: str | None = None
    network: NetworkMode = "host"
    runtime: RuntimeName = "crun"


def container_argv(config: ContainerConfig, options: RunOptions) -> tuple[str, ...]:
    """ENTRYPOINT + CMD the way docker combines them.

    ``--entrypoint`` replaces the image's ENTRYPOINT and drops its CMD; a
    command on the command line replaces CMD.

    Raises:
        UserInputError: nothing to run.
    """
    if options.entrypoint is not None:
        entrypoint: tuple[str, ...] = (options.entrypoint,) if options.entrypoint else ()
        cmd = options.command
    else:
        entrypoint = config.entrypoint or ()
        cmd = options.command or (config.cmd or ())
    argv = entrypoint + cmd
    if not argv:
        raise UserInputError("running the image: no command specified",
                             hint="give a command after the image name")
    return argv


def container_env(config: ContainerConfig, options: RunOptions, user: ExecUser,
                  hostname: str) -> tuple[str, ...]:
    """Image Env, then ``-e`` overrides; HOSTNAME and HOME as docker adds them.

    ``-e NAME`` without ``=`` takes NAME from hoist's own environment (dropped
    when unset), as docker does.
    """
    merged: dict[str, str] = {}
    for item in (f"HOSTNAME={hostname}", *config.env):
        _put(merged, item)
    for item in options.env:
        if "=" in item:
            _put(merged, item)
        elif item and item in os.environ:
            merged[item] = os.environ[item]
    merged.setdefault("HOME", user.home or "/")
    return tuple(f"{k}={v}" for k, v in merged.items())


def _put(env: dict[str, str], item: str) -> None:
    key, _, value = item.partition("=")
    if key:
        env[key] = value


def container_process(config: ContainerConfig, options: RunOptions, user: ExecUser,
                      hostname: str) -> ProcessSpec:
    """The ProcessSpec of a ``hoist run``.

    Raises:
        UserInputError: nothing to run, or a relative working directory.
    """
    cwd = options.workdir or config.working_dir or "/"
    if not PurePosixPath(cwd).is_absolute():
        raise UserInputError(f"running the image: the working directory {cwd!r} is not absolute")
    return ProcessSpec(
        args=container_argv(config, options),
        env=container_env(config, options, user, hostname),
        cwd=cwd,
        uid=user.uid,
        gid=user.gid,
        additional_gids=user.additional_gids,
        hostname=hostname,
        network=options.network,
    )


def run_image(store: Store, image_ref: str, options: RunOptions) -> int:
    """Run ``image_ref`` in the foreground; return the container's exit status.

    Raises:
        ImageNotFound: no such image.
        UserInputError: bad options or an unknown user.
        SnapshotError, ContainerError: the rootfs or the container failed.
        ContainerInterrupted: SIGINT/SIGTERM; everything was cleaned up.
    """
    from hoist.snapshot import choose
    from hoist.snapshot.lowers import image_lowers, prepared

    runtime = OciRuntime(options.runtime)
    stored = store.get_image(image_ref)
    cid = new_container_id()
    with sigterm_raises():
        lowers = image_lowers(store, stored.image)
        with prepared(store, choose(store.root), cid, lowers) as snap:
            user = resolve_user(snap.rootfs, options.user or stored.image.config.config.user)
            process = container_process(stored.image.config.config, options, user, cid[6:18])
            ensure_workdir(snap.rootfs, process)
            request = RunRequest(process, snap.rootfs, store.root / "containers",
                                 container_id=cid)
            return runtime.run(request)


def ensure_workdir(rootfs: Path, process: ProcessSpec) -> None:
    """Create the working directory inside the rootfs (docker does), never outside it."""
    try:
        with Root(rootfs) as root:
            os.close(root.mkdir_all(process.cwd))
    except OSError as exc:
        raise UserInputError(f"creating the working directory {process.cwd}: {exc.strerror}",
                             ) from exc
