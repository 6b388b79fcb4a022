"""Instruction flags: ``--name=value``, ``--bool[=true|false]``, repeatable lists.

Every flag of the current Dockerfile reference is known here, per keyword,
so nothing a user writes is silently dropped: an unknown flag is an error
(``unknown-flag``) and a known flag the build engine cannot honour yet is
reported by :func:`hoist.dockerfile.unsupported_flags`.
"""

from __future__ import annotations

from enum import Enum

import msgspec

from hoist.dockerfile.suggest import shorten, suggest


class Kind(Enum):
    STRING = "string"
    BOOL = "bool"
    LIST = "list"


FLAG_SPECS: dict[str, dict[str, Kind]] = {
    "from": {"platform": Kind.STRING},
    "run": {"mount": Kind.LIST, "network": Kind.STRING, "security": Kind.STRING,
            "device": Kind.LIST},
    "copy": {"from": Kind.STRING, "chown": Kind.STRING, "chmod": Kind.STRING,
             "link": Kind.BOOL, "parents": Kind.BOOL, "exclude": Kind.LIST},
    "add": {"chown": Kind.STRING, "chmod": Kind.STRING, "link": Kind.BOOL,
            "keep-git-dir": Kind.BOOL, "checksum": Kind.STRING, "exclude": Kind.LIST,
            "unpack": Kind.BOOL},
    "healthcheck": {"interval": Kind.STRING, "timeout": Kind.STRING,
                    "start-period": Kind.STRING, "start-interval": Kind.STRING,
                    "retries": Kind.STRING},
}


class FlagError(ValueError):
    """A flag problem; the caller turns it into a DockerfileError with the line."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class Flags(msgspec.Struct, frozen=True):
    """Parsed flags of one instruction: name → str | bool | tuple[str, ...]."""

    values: tuple[tuple[str, str | bool | tuple[str, ...]], ...] = ()

    def string(self, name: str) -> str | None:
        value = dict(self.values).get(name)
        return value if isinstance(value, str) else None

    def boolean(self, name: str) -> bool | None:
        value = dict(self.values).get(name)
        return value if isinstance(value, bool) else None

    def list(self, name: str) -> tuple[str, ...]:
        value = dict(self.values).get(name)
        return value if isinstance(value, tuple) else ()

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.values)


def _parse_bool(name: str, value: str | None) -> bool:
    if value is None or value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise FlagError(f"expecting boolean value for flag {name}, not: {shorten(value)}",
                    "invalid-flag")


def _unknown(keyword: str, name: str) -> str:
    close = suggest(name, FLAG_SPECS.get(keyword, {}))
    hint = f" (did you mean --{close}?)" if close else ""
    return f"unknown flag: --{shorten(name)} for {keyword.upper()}{hint}"


def parse_flags(keyword: str, raw: tuple[str, ...]) -> Flags:
    """Parse ``--name[=value]`` words for ``keyword``.

    Raises:
        FlagError: unknown flag, repeated single-value flag, missing value,
            non-boolean value for a boolean flag.
    """
    specs = FLAG_SPECS.get(keyword, {})
    values: dict[str, str | bool | tuple[str, ...]] = {}
    for word in raw:
        name, sep, value = word[2:].partition("=")
        kind = specs.get(name)
        if kind is None:
            raise FlagError(_unknown(keyword, name), "unknown-flag")
        if kind is Kind.LIST:
            if not sep:
                raise FlagError(f"missing a value on flag: --{name}", "invalid-flag")
            values[name] = (*values.get(name, ()), value)  # type: ignore[misc]
            continue
        if name in values:
            raise FlagError(f"duplicate flag specified: --{name}", "duplicate-flag")
        if kind is Kind.BOOL:
            values[name] = _parse_bool(name, value if sep else None)
        elif not sep:
            raise FlagError(f"missing a value on flag: --{name}", "invalid-flag")
        else:
            values[name] = value
    return Flags(tuple(values.items()))
