"""How hoist run combines the image config with command-line overrides (pure)."""

from __future__ import annotations

import pytest

from hoist.errors import UserInputError
from hoist.image.config import ContainerConfig
from hoist.runtime.container import RunOptions, container_argv, container_env, container_process
from hoist.runtime.users import ExecUser

CONFIG = ContainerConfig(entrypoint=("/entry", "-x"), cmd=("default",), env=("A=1", "PATH=/p"),
                         working_dir="/srv", user="app")
USER = ExecUser(1000, 1000, (29,), "/home/app")


@pytest.mark.parametrize(
    ("config", "options", "argv"),
    [
        (CONFIG, RunOptions(), ("/entry", "-x", "default")),
        (CONFIG, RunOptions(command=("a", "b")), ("/entry", "-x", "a", "b")),
        (CONFIG, RunOptions(entrypoint="/other"), ("/other",)),
        (CONFIG, RunOptions(entrypoint="/other", command=("c",)), ("/other", "c")),
        (CONFIG, RunOptions(entrypoint="", command=("sh",)), ("sh",)),
        (ContainerConfig(cmd=("sh",)), RunOptions(), ("sh",)),
        (ContainerConfig(cmd=("sh",)), RunOptions(command=("echo", "hi")), ("echo", "hi")),
    ],
)
def test_argv_like_docker(config: ContainerConfig, options: RunOptions,
                          argv: tuple[str, ...]) -> None:
    assert container_argv(config, options) == argv


def test_nothing_to_run_is_an_error() -> None:
    with pytest.raises(UserInputError, match="no command"):
        container_argv(ContainerConfig(), RunOptions())
    with pytest.raises(UserInputError, match="no command"):
        container_argv(CONFIG, RunOptions(entrypoint=""))


def test_env_overrides_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_HOST", "h")
    monkeypatch.delenv("UNSET_HERE", raising=False)
    options = RunOptions(env=("A=2", "B=x=y", "FROM_HOST", "UNSET_HERE"))
    env = container_env(CONFIG, options, USER, "abc")
    assert env == ("HOSTNAME=abc", "A=2", "PATH=/p", "B=x=y", "FROM_HOST=h", "HOME=/home/app")


def test_image_home_wins_over_passwd() -> None:
    config = ContainerConfig(env=("HOME=/data",), cmd=("x",))
    assert "HOME=/data" in container_env(config, RunOptions(), USER, "h")


def test_process_spec() -> None:
    spec = container_process(CONFIG, RunOptions(workdir="/w", network="none"), USER, "abc")
    assert (spec.cwd, spec.uid, spec.gid, spec.additional_gids) == ("/w", 1000, 1000, (29,))
    assert (spec.hostname, spec.network) == ("abc", "none")
    assert container_process(CONFIG, RunOptions(), USER, "abc").cwd == "/srv"
    assert container_process(ContainerConfig(cmd=("x",)), RunOptions(), USER, "a").cwd == "/"


def test_relative_workdir_is_refused() -> None:
    with pytest.raises(UserInputError, match="not absolute"):
        container_process(CONFIG, RunOptions(workdir="rel"), USER, "abc")
