"""``--change 'CMD …'`` for ``hoist import``: the Dockerfile instructions docker allows.

CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
WORKDIR, in JSON or shell form, applied to a container config in order.
"""

from __future__ import annotations

import json
import posixpath
import shlex

from msgspec.structs import replace

from hoist.errors import UserInputError
from hoist.image.config import ContainerConfig

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
           "VOLUME", "WORKDIR")  # fmt: skip


def apply_changes(config: ContainerConfig, changes: list[str]) -> ContainerConfig:
    """Apply each ``--change`` line in order.

    Raises:
        UserInputError: an unknown or unsupported instruction, or malformed arguments.
    """
    for line in changes:
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword not in ALLOWED:
            raise UserInputError(
                f"applying --change {line!r}: {keyword or 'empty'} is not one of "
                + ", ".join(ALLOWED)
            )
        config = _APPLY[keyword](config, rest, line)
    return config


def _command(rest: str, line: str) -> tuple[str, ...]:
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    if not rest:
        raise UserInputError(f"applying --change {line!r}: missing arguments")
    return ("/bin/sh", "-c", rest)


def _pairs(rest: str, line: str) -> list[tuple[str, str]]:
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise UserInputError(f"applying --change {line!r}: {exc}") from exc
    if words and "=" not in words[0]:
        return [(words[0], rest.split(None, 1)[1] if len(words) > 1 else "")]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise UserInputError(f"applying --change {line!r}: expected KEY=VALUE, got {word!r}")
        pairs.append((key, value))
    if not pairs:
        raise UserInputError(f"applying --change {line!r}: missing arguments")
    return pairs


def _env(c: ContainerConfig, rest: str, line: str) -> ContainerConfig:
    env = list(c.env)
    for key, value in _pairs(rest, line):
        env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
    return replace(c, env=tuple(env))


def _label(c: ContainerConfig, rest: str, line: str) -> ContainerConfig:
    return replace(c, labels={**c.labels, **dict(_pairs(rest, line))})


def _expose(c: ContainerConfig, rest: str, line: str) -> ContainerConfig:
    ports = list(c.exposed_ports)
    for word in rest.split():
        port = word if "/" in word else f"{word}/tcp"
        if port not in ports:
            ports.append(port)
    return replace(c, exposed_ports=tuple(ports))


def _volume(c: ContainerConfig, rest: str, line: str) -> ContainerConfig:
    paths = _command(rest, line) if rest.startswith("[") else tuple(rest.split())
    if paths[:2] == ("/bin/sh", "-c"):
        paths = tuple(rest.split())
    return replace(c, volumes=tuple(dict.fromkeys((*c.volumes, *paths))))


def _workdir(c: ContainerConfig, rest: str, line: str) -> ContainerConfig:
    if not rest:
        raise UserInputError(f"applying --change {line!r}: missing path")
    return replace(c, working_dir=posixpath.join(c.working_dir or "/", rest))


_APPLY = {
    "CMD": lambda c, rest, line: replace(c, cmd=_command(rest, line)),
    "ENTRYPOINT": lambda c, rest, line: replace(c, entrypoint=_command(rest, line)),
    "ENV": _env,
    "EXPOSE": _expose,
    "LABEL": _label,
    "ONBUILD": lambda c, rest, line: replace(c, on_build=(*c.on_build, rest)),
    "STOPSIGNAL": lambda c, rest, line: replace(c, stop_signal=rest),
    "USER": lambda c, rest, line: replace(c, user=rest),
    "VOLUME": _volume,
    "WORKDIR": _workdir,
}
