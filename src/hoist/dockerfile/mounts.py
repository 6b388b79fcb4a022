"""``RUN --mount=…`` specifications, typed (BuildKit ``instructions/commands_runmount.go`` rules).

``type=bind|cache|tmpfs|secret|ssh`` (default bind), ``target``/``dst``/
``destination``, ``source``/``src``, ``from``, ``ro``/``readonly``,
``rw``/``readwrite``, ``id``, ``sharing=shared|private|locked``, ``mode``
(octal), ``uid``, ``gid``, ``required``, ``size`` (tmpfs), ``env`` (secret).
"""

from __future__ import annotations

import msgspec

from hoist.dockerfile.flags import FlagError
from hoist.dockerfile.suggest import shorten

MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_ALIASES = {"src": "source", "dst": "target", "destination": "target", "ro": "readonly",
            "rw": "readwrite"}
_BOOL_KEYS = frozenset({"readonly", "readwrite", "required"})
_KEYS = frozenset({"type", "target", "source", "from", "readonly", "readwrite", "id",
                   "sharing", "mode", "uid", "gid", "required", "size", "env"})


class Mount(msgspec.Struct, frozen=True):
    """One ``--mount``. Strings are unexpanded until the plan evaluates the RUN."""

    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = False
    id: str = ""
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    required: bool = False
    size: str = ""
    env: str = ""
    text: str = ""


def _fields(text: str) -> list[tuple[str, str | None]]:
    import csv  # only for RUN --mount, read as CSV like BuildKit

    try:
        row = next(csv.reader([text]), [])
    except csv.Error as exc:
        raise FlagError(f"parsing --mount={shorten(text)}: {exc}", "invalid-mount") from exc
    out: list[tuple[str, str | None]] = []
    for field in row:
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        out.append((_ALIASES.get(key, key), value if sep else None))
    return out


def _boolean(key: str, value: str | None) -> bool:
    if value is None or value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise FlagError(f"invalid value for {key}: {shorten(value)}", "invalid-mount")


def _number(key: str, value: str, base: int = 10) -> int:
    try:
        return int(value, base)
    except ValueError as exc:
        raise FlagError(f"invalid value for {key}: {shorten(value)}", "invalid-mount") from exc


def parse_mount(text: str) -> Mount:
    """Parse the value of one ``--mount`` flag.

    Raises:
        FlagError: unknown key or type, bad value, missing target.
    """
    values: dict[str, object] = {"text": text}
    for key, value in _fields(text):
        if key not in _KEYS:
            raise FlagError(f"unexpected key '{shorten(key)}' in '{shorten(text)}'",
                            "invalid-mount")
        if key in _BOOL_KEYS:
            flag = _boolean(key, value)
            key, flag = ("readonly", not flag) if key == "readwrite" else (key, flag)
            values[key] = flag
        elif value is None:
            raise FlagError(f"invalid field '{shorten(key)}' must be a key=value pair",
                            "invalid-mount")
        else:
            values[key] = _typed(key, value)
    return _finish(values, text)


def _typed(key: str, value: str) -> object:
    if key == "mode":
        return _number(key, value, 8)
    if key in ("uid", "gid"):
        return _number(key, value)
    if key == "type" and value.lower() not in MOUNT_TYPES:
        raise FlagError(f"unsupported mount type {value!r}", "invalid-mount")
    if key == "sharing" and value not in ("shared", "private", "locked"):
        raise FlagError(f"unsupported sharing value {value!r}", "invalid-mount")
    return value.lower() if key == "type" else value


def _finish(values: dict[str, object], text: str) -> Mount:
    """Defaults and cross-field rules of BuildKit's ``--mount`` parser."""
    kind = str(values.get("type", "bind"))
    if "from" in values:
        values["from_"] = values.pop("from")
    if kind in ("bind", "tmpfs") and {"mode", "uid", "gid"} & values.keys():
        raise FlagError(f"mount {shorten(text)!r}: mode, uid and gid are only for cache, "
                        "secret and ssh mounts", "invalid-mount")
    if kind == "secret":
        _secret_defaults(values, text)
    if kind == "ssh":
        values.setdefault("id", "default")
        values["target"] = values.get("target") or "/run/buildkit/ssh_agent.0"
    if not values.get("target") and not (kind == "secret" and values.get("env")):
        raise FlagError(f"mount {shorten(text)!r}: target is required", "invalid-mount")
    if values.get("target") == "/":
        raise FlagError(f"mount {shorten(text)!r}: cannot mount over /", "invalid-mount")
    values.setdefault("readonly", kind in ("bind", "secret", "ssh"))
    return Mount(**values)  # type: ignore[arg-type]


def _secret_defaults(values: dict[str, object], text: str) -> None:
    """id from ``id``, ``source`` or the target's base name; target /run/secrets/<id>."""
    target = str(values.get("target") or "")
    ident = str(values.get("id") or values.get("source") or target.rstrip("/").rsplit("/", 1)[-1])
    if not ident:
        raise FlagError(f"mount {shorten(text)!r}: a secret needs an id, a source or a target",
                        "invalid-mount")
    values["id"] = ident
    if not target and not values.get("env"):
        values["target"] = f"/run/secrets/{ident}"
