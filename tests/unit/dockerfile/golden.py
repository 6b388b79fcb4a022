"""Dump a parsed Dockerfile as stable text, for the golden directories.

One line per instruction: ``<lines> <Type> field=value …`` listing only the
fields that differ from their defaults (``source``/``original`` omitted).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hoist.dockerfile import Dockerfile

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
_SKIP = {"original", "text"}


def _value(value: object) -> str:
    if isinstance(value, msgspec.Struct):
        return _fields(value)
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(repr, value))) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _default(field: msgspec.structs.FieldInfo) -> object:
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return msgspec.NODEFAULT


def _fields(obj: object) -> str:
    parts = []
    for field in msgspec.structs.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, field.name)
        skip = field.name in _SKIP or type(value).__name__ == "SourceRange"
        if skip or value == _default(field):
            continue
        parts.append(f"{field.name}={_value(value)}")
    return f"{type(obj).__name__}({', '.join(parts)})"


def dump(df: Dockerfile) -> str:
    lines = [f"directives {dict(df.directives)!r} escape={df.escape!r}"]
    for arg in df.meta_args:
        lines.append(f"{arg.source} meta {_fields(arg)}")
    for stage in df.stages:
        lines.append(f"stage {stage.index} name={stage.name!r} base={stage.base!r} "
                     f"platform={stage.platform!r} lines={stage.source}")
        for instr in stage.instructions:
            lines.append(f"  {instr.source} {_fields(instr)}")
    return "\n".join(lines) + "\n"
