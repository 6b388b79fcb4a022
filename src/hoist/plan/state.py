"""The frozen state a stage carries from one instruction to the next.

``StageState`` holds the image-config values instructions change (Env,
Cmd, Entrypoint, Shell, WorkingDir, User, Labels, ExposedPorts, Volumes,
StopSignal, Healthcheck, OnBuild, author) plus the ARG scope: the ARGs this
stage declared with their values, the ``--build-arg`` values and the global
ARG values a stage ARG may inherit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from msgspec.structs import replace

from hoist.errors import UserInputError

DEFAULT_SHELL = ("/bin/sh", "-c")
PROXY_ARGS = frozenset({
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
})
_PROXY_NAMES = frozenset({"http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"})
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLATFORM_ARGS = ("TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                 "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT")

Pairs = tuple[tuple[str, str], ...]


def set_pair(pairs: Pairs, key: str, value: str) -> Pairs:
    """Replace ``key`` in place, or append it (docker keeps Env order this way)."""
    if any(k == key for k, _ in pairs):
        return tuple((k, value if k == key else v) for k, v in pairs)
    return (*pairs, (key, value))


class Scope(msgspec.Struct, frozen=True):
    """Values every stage of a build shares: build args, global ARGs, platform ARGs."""

    build_args: Pairs = ()
    meta_args: tuple[tuple[str, str | None], ...] = ()
    platform_args: Pairs = ()
    escape: str = "\\"


class StageState(msgspec.Struct, frozen=True):
    """Config values and ARG scope after some instructions of a stage."""

    scope: Scope = Scope()
    env: Pairs = ()
    args: tuple[tuple[str, str | None], ...] = ()
    shell: tuple[str, ...] = DEFAULT_SHELL
    shell_set: bool = False  # SHELL given or inherited (even the default): the config keeps it
    workdir: str = ""
    user: str = ""
    cmd: tuple[str, ...] | None = None
    cmd_set: bool = False
    entrypoint: tuple[str, ...] | None = None
    labels: Pairs = ()
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""
    healthcheck: Mapping[str, Any] | None = None
    onbuild: tuple[str, ...] = ()
    author: str = ""

    def expansion_env(self) -> dict[str, str]:
        """What ``$x`` sees: ARGs in scope with a value, overridden by ENV."""
        env = {k: v for k, v in self.args if v is not None}
        env.update(self.env)
        return env

    def run_env(self) -> Pairs:
        """The environment a RUN command sees, as BuildKit builds it.

        ENV (config order), then ARGs in scope with a value that ENV does not
        set, then proxy build args (``http_proxy`` … in any case, usable without
        an ARG line) as upper- then lower-case names, then the default PATH if
        nothing set one. A name already set is never overridden.
        """
        out = list(self.env)
        names = {k for k, _ in self.env}
        extra = [*((k, v) for k, v in self.args if v is not None), *self._proxy_env(),
                 ("PATH", DEFAULT_PATH)]
        for key, value in extra:
            if key not in names:
                out.append((key, value))
                names.add(key)
        return tuple(out)

    def _proxy_env(self) -> Pairs:
        out: list[tuple[str, str]] = []
        for key, value in self.scope.build_args:
            if key.lower() in _PROXY_NAMES:
                out += [(key.upper(), value), (key.lower(), value)]
        return tuple(out)

    def build_args_reaching(self) -> Pairs:
        """The declared ARGs with a value: the build args in a RUN's cache key.

        Undeclared proxy args reach the command but, as in BuildKit, not the
        cache key (changing a proxy does not invalidate the cache).
        """
        return tuple((k, v) for k, v in self.args if v is not None)

    def history_args(self) -> Pairs:
        """Declared ARGs with their effective value, for ``RUN |N k=v …`` in history."""
        env = dict(self.run_env())
        return tuple((k, env[k]) for k, v in self.args if k in env)

    def with_(self, **changes: Any) -> StageState:
        return replace(self, **changes)


def _bad(key: str, want: str) -> UserInputError:
    return UserInputError(f"reading the base image config: {key} must be {want}")


def _seq(c: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = c.get(key)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
        raise _bad(key, "a list of strings")
    return tuple(value)


def _text(c: Mapping[str, Any], key: str) -> str:
    value = c.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(key, "a string")
    return value or ""


def _keys(c: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = c.get(key) or {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _bad(key, "an object")
    return tuple(sorted(value))


def _labels(c: Mapping[str, Any]) -> Pairs:
    value = c.get("Labels") or {}
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _bad("Labels", "an object of strings")
    return tuple(sorted(value.items()))


def _env_pairs(items: Sequence[str] | None) -> Pairs:
    pairs: Pairs = ()
    for item in items or ():
        key, _, value = item.partition("=")
        pairs = set_pair(pairs, key, value)
    return pairs


def _with_path(env: Pairs) -> Pairs:
    """BuildKit adds the default PATH to a base config that has none."""
    return env if any(k == "PATH" for k, _ in env) else (*env, ("PATH", DEFAULT_PATH))


def state_from_config(config: Mapping[str, Any] | None, scope: Scope) -> StageState:
    """The state at the start of a stage, from its base image's config (docker keys).

    ``config`` is the ``config`` object of an image config (``Env``, ``Cmd``,
    ``Entrypoint``, ``Shell``, ``WorkingDir``, ``User``, ``Labels``, …); None
    or empty for ``FROM scratch``. A config without PATH gets BuildKit's
    default PATH (it lands in the image config too). OnBuild triggers are not carried: the
    engine runs them (see :func:`hoist.plan.onbuild_triggers`) and the child
    starts with none.

    Raises:
        UserInputError: a field of the wrong JSON type (the config is image input).
    """
    c = dict(config or {})
    healthcheck = c.get("Healthcheck")
    if healthcheck is not None and not isinstance(healthcheck, Mapping):
        raise _bad("Healthcheck", "an object")
    return StageState(
        scope=scope, env=_with_path(_env_pairs(_seq(c, "Env"))),
        shell=_seq(c, "Shell") or DEFAULT_SHELL, shell_set=bool(_seq(c, "Shell")),
        workdir=_text(c, "WorkingDir"), user=_text(c, "User"), cmd=_seq(c, "Cmd"),
        entrypoint=_seq(c, "Entrypoint"), labels=_labels(c), exposed_ports=_keys(c, "ExposedPorts"),
        volumes=_keys(c, "Volumes"), stop_signal=_text(c, "StopSignal"), healthcheck=healthcheck,
    )


def config_fields(state: StageState) -> dict[str, Any]:
    """The docker image-config keys ``state`` determines (None where docker writes null)."""
    return {
        "Env": [f"{k}={v}" for k, v in state.env] or None,
        "Cmd": None if state.cmd is None else list(state.cmd),
        "Entrypoint": None if state.entrypoint is None else list(state.entrypoint),
        "Shell": list(state.shell) if state.shell_set else None,
        "WorkingDir": state.workdir,
        "User": state.user or None,
        "Labels": dict(state.labels) or None,
        "ExposedPorts": {p: {} for p in state.exposed_ports} or None,
        "Volumes": {v: {} for v in state.volumes} or None,
        "StopSignal": state.stop_signal or None,
        "Healthcheck": None if state.healthcheck is None else dict(state.healthcheck),
        "OnBuild": list(state.onbuild) or None,
    }


def inherit(parent: StageState, scope: Scope | None = None) -> StageState:
    """The start state of ``FROM <stage>``: the parent's config, a fresh ARG scope.

    The parent's ONBUILD triggers are dropped from the config; run them first
    (:func:`hoist.plan.onbuild_triggers` of ``parent.onbuild``).
    """
    return replace(parent, scope=scope or parent.scope, args=(), cmd_set=False, onbuild=())
