"""Differences between two image snapshots, as readable lines, with allowances."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

import msgspec

from hoist.testing.compat.snapshot import CONFIG_FIELDS, FileEntry, HistoryItem, ImageSnapshot


class Allowance(msgspec.Struct, frozen=True):
    """Deliberate differences: what a comparison must not report.

    Config fields are always compared with absent, ``null``, ``""``, ``[]``
    and ``{}`` taken as equal (the classic builder writes ``"User": ""`` where
    BuildKit leaves the field out). ``fields`` names top-level parts
    (``history``, ``layers``) or config fields (``config.ArgsEscaped``);
    ``history.created_by`` compares history entries by instruction keyword and
    ``empty_layer`` only (BuildKit and the classic builder word ``created_by``
    differently); ``paths`` are ``fnmatch`` globs of files whose differences
    (missing, extra or changed) are allowed; ``file_fields`` are FileEntry
    attributes never compared (``hardlink``, ``uid`` …).
    """

    fields: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()
    file_fields: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Allowance:
        data = data or {}
        return cls(
            fields=frozenset(data.get("fields", ())),
            paths=tuple(data.get("paths", ())),
            file_fields=frozenset(data.get("file_fields", ())),
        )

    def merged(self, other: Allowance) -> Allowance:
        return Allowance(
            self.fields | other.fields,
            self.paths + other.paths,
            self.file_fields | other.file_fields,
        )

    def path_allowed(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.paths)


_ENTRY_FIELDS = ("type", "mode", "uid", "gid", "size", "sha256", "target", "hardlink", "mtime")


def diff_snapshots(
    expected: ImageSnapshot, actual: ImageSnapshot, allow: Allowance | None = None
) -> list[str]:
    """Every difference of ``actual`` from ``expected``, one readable line each; [] if equal."""
    allow = allow or Allowance()
    out: list[str] = []
    for name in CONFIG_FIELDS:
        want, got = expected.config.get(name), actual.config.get(name)
        if _unset(want) != _unset(got) and f"config.{name}" not in allow.fields:
            out.append(f"config.{name}: expected {json.dumps(want)}, got {json.dumps(got)}")
    if "history" not in allow.fields:
        loose = "history.created_by" in allow.fields
        out.extend(_diff_history(expected.history, actual.history, loose=loose))
    if expected.layers != actual.layers and "layers" not in allow.fields:
        out.append(f"layers: expected {expected.layers}, got {actual.layers}")
    out.extend(_diff_files(expected.files, actual.files, allow))
    return out


def _unset(value: Any) -> Any:
    """Absent, null, "", [] and {} all mean "not set" to a runtime: compare them as one."""
    return None if value in (None, "", [], {}) else value


def _diff_history(
    want: tuple[HistoryItem, ...], got: tuple[HistoryItem, ...], *, loose: bool
) -> list[str]:
    out = []
    for index in range(max(len(want), len(got))):
        a = want[index] if index < len(want) else None
        b = got[index] if index < len(got) else None
        if (_loose(a) != _loose(b)) if loose else (a != b):
            out.append(f"history[{index}]: expected {_show(a)}, got {_show(b)}")
    return out


INSTRUCTIONS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)


def history_keyword(created_by: str) -> str:
    """The Dockerfile instruction a history entry came from, in either builder's wording.

    BuildKit writes ``RUN /bin/sh -c x # buildkit`` and ``ENV A=1``; the classic
    builder ``/bin/sh -c #(nop)  ENV A=1`` for metadata and, for RUN, the command
    alone: ``/bin/sh -c x``, ``|1 A=b /bin/sh -c x`` or, exec form, ``touch /x``.
    """
    text = created_by.strip()
    if "#(nop)" in text:
        text = text.split("#(nop)", 1)[1].strip()
    word = text.split(" ", 1)[0].upper() if text else ""
    return word if word in INSTRUCTIONS else "RUN"


def _loose(item: HistoryItem | None) -> tuple[str, bool] | None:
    return None if item is None else (history_keyword(item.created_by), item.empty_layer)


def _show(item: HistoryItem | None) -> str:
    if item is None:
        return "nothing"
    return json.dumps(item.created_by) + (" (empty layer)" if item.empty_layer else "")


def _diff_files(
    want: Mapping[str, FileEntry], got: Mapping[str, FileEntry], allow: Allowance
) -> list[str]:
    out = []
    for path in sorted(set(want) | set(got)):
        if allow.path_allowed(path):
            continue
        a, b = want.get(path), got.get(path)
        if b is None:
            out.append(f"{path}: missing (expected {_brief(a)})")
        elif a is None:
            out.append(f"{path}: unexpected ({_brief(b)})")
        else:
            out.extend(_diff_entry(path, a, b, allow))
    return out


def _diff_entry(path: str, a: FileEntry, b: FileEntry, allow: Allowance) -> list[str]:
    out = []
    for name in _ENTRY_FIELDS:
        if name in allow.file_fields:
            continue
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            if name == "mode":
                x, y = f"{x:04o}", f"{y:04o}"
            out.append(f"{path}: {name} expected {x}, got {y}")
    return out


def _brief(entry: FileEntry | None) -> str:
    if entry is None:
        return "nothing"
    extra = f" -> {entry.target}" if entry.target else ""
    return f"{entry.type} {entry.mode:04o} {entry.uid}:{entry.gid}{extra}"


def format_report(differences: list[str], *, title: str = "image differs", limit: int = 60) -> str:
    """A readable multi-line report; at most ``limit`` lines of differences."""
    if not differences:
        return f"{title}: no differences"
    lines = [f"{title}: {len(differences)} difference(s)"]
    lines.extend(f"  {line}" for line in differences[:limit])
    if len(differences) > limit:
        lines.append(f"  … and {len(differences) - limit} more")
    return "\n".join(lines)
