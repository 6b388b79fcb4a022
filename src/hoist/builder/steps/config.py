"""The image config a stage's state describes, and the scratch image's defaults."""

from __future__ import annotations

from msgspec.structs import replace

from hoist.image import ContainerConfig, Image
from hoist.image.mutate import set_container_config
from hoist.models.platform import Platform
from hoist.plan import StageState

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def scratch_image(platform: Platform) -> Image:
    """``FROM scratch``: no layers, BuildKit's default PATH and WorkingDir ``/``."""
    image = Image.scratch(platform)
    return set_container_config(image, ContainerConfig(env=(DEFAULT_PATH,), working_dir="/"))


def container_config(
    base: ContainerConfig, state: StageState, *, command_set: bool
) -> ContainerConfig:
    """``base`` with every field a Dockerfile instruction can set taken from ``state``.

    Fields hoist does not model (``extra``) are kept from ``base``. ``Shell``
    is written only once a SHELL instruction (or the base) set one, as docker
    does. ``command_set`` marks a CMD or ENTRYPOINT in this build, for which
    BuildKit (Docker 20.10) writes ``ArgsEscaped: true``.
    """
    shell = state.shell if state.shell_set else ()
    return replace(
        base,
        user=state.user,
        exposed_ports=state.exposed_ports,
        env=tuple(f"{k}={v}" for k, v in state.env),
        entrypoint=state.entrypoint,
        cmd=state.cmd,
        volumes=state.volumes,
        working_dir=state.workdir,
        labels=dict(state.labels),
        stop_signal=state.stop_signal,
        healthcheck=dict(state.healthcheck) if state.healthcheck is not None else None,
        on_build=state.onbuild,
        shell=shell,
        args_escaped=base.args_escaped or command_set,
    )


def with_state(image: Image, state: StageState, *, command_set: bool = False) -> Image:
    """The image whose container config reflects ``state`` (same image if nothing changed)."""
    new = container_config(image.config.config, state, command_set=command_set)
    if new == image.config.config:
        return image
    return set_container_config(image, new)
