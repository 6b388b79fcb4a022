"""Cache keys: the digest of canonical JSON of everything that decides a step's result.

A key keeps its components so that a miss can be explained later: comparing
the components of a new key with those of the entry that the same parent and
instruction produced last time names what changed (a build arg, a source
file's checksum, the instruction text).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

KEY_VERSION = 1


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: equal values give equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class CacheKey(msgspec.Struct, frozen=True):
    digest: str  # "sha256:<hex>"
    components: Mapping[str, Any]

    def to_json(self) -> str:
        return canonical_json(self.components).decode()


def make_key(components: Mapping[str, Any]) -> CacheKey:
    body = {"version": KEY_VERSION, **components}
    return CacheKey("sha256:" + hashlib.sha256(canonical_json(body)).hexdigest(), body)


def step_key(
    parent: CacheKey,
    instruction: Mapping[str, Any],
    *,
    build_args: Mapping[str, str],
    sources: Sequence[Mapping[str, Any]] = (),
) -> CacheKey:
    """Key of a step after its parent: the expanded instruction, the args that reach it, inputs."""
    return make_key(
        {
            "parent": parent.digest,
            "instruction": dict(instruction),
            "build_args": dict(sorted(build_args.items())),
            "sources": list(sources),
        }
    )


def explain_miss(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> str:
    """A one-line reason for a miss: which component changed compared with ``old``."""
    if old is None:
        return "no earlier build of this step"
    changed = [name for name in sorted(set(new) | set(old)) if new.get(name) != old.get(name)]
    parts = []
    for name in changed:
        if name == "build_args":
            parts.append(_dict_change("build arg", new.get(name) or {}, old.get(name) or {}))
        elif name == "sources":
            parts.append(_sources_change(new.get(name) or [], old.get(name) or []))
        else:
            parts.append(f"{name} changed")
    return "; ".join(parts) or "no change found"


def _dict_change(label: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> str:
    names = sorted(k for k in set(new) | set(old) if new.get(k) != old.get(k))
    return f"{label} changed: {', '.join(names)}"


def _source_name(item: Mapping[str, Any]) -> str:
    """What a source component names: a context path, or an ``ADD`` URL."""
    return str(item.get("path", item.get("url")))


def _sources_change(new: Sequence[Mapping[str, Any]], old: Sequence[Mapping[str, Any]]) -> str:
    old_by_path = {_source_name(item): item for item in old}
    changed: list[str] = []
    for item in new:
        before = old_by_path.get(_source_name(item))
        if before != item:
            changed += _changed_files(item, before) or [_source_name(item)]
    if not changed:
        return "source set changed"
    shown = ", ".join(changed[:5]) + (" …" if len(changed) > 5 else "")
    return f"source changed: {shown}"


def _changed_files(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> list[str]:
    """The deepest entries of a directory source whose checksums differ (added, removed, edited)."""
    if old is None or "files" not in new or "files" not in old:
        return []
    a, b = new["files"], old["files"]
    changed = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
    return [p for p in changed if not any(q.startswith(_prefix(p)) for q in changed if q != p)]


def _prefix(path: str) -> str:
    return "" if path == "." else path.rstrip("/") + "/"


def content_key(diff_ids: Sequence[str], config: Mapping[str, Any], platform: str) -> CacheKey:
    """The key of an image's *content*: its layers, its runtime config and its platform.

    Steps chain on this rather than on the previous step's key, so a step
    that ran again but produced the same content (a RUN with no effect, a
    COPY of a file touched but unchanged) lets the steps after it hit again.
    History and timestamps are left out on purpose.
    """
    return make_key({"layers": list(diff_ids), "config": dict(config), "platform": platform})
