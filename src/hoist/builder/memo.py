"""The no-op rebuild: replay a build whose every input is unchanged.

After a successful build, hoist records, under a key derived from the build's
*identity* (the Dockerfile bytes and every option that shapes the result),
the identity itself, what the build produced (each step's intermediate
image, the warnings) and what it read: the base images by tag, and the
``lstat`` of every context path that COPY/ADD selected (files, and the
directories above and below them, so an added or removed file shows), plus
the ignore files, and the full and short names of the tags it was given. A
later build with the same identity checks those stats and tags, and that the
images still exist; if all hold, it replays the recorded steps as cache hits
without parsing, planning or checksumming anything. Any doubt sends the build down the full path,
whose content-based cache gives the same answer more slowly.

This module is imported on every build: it stays light (standard library,
events, the read-only store look-ups; no ``msgspec``, no image references:
a tag the recorded build was not given takes the full path; no ``hashlib``:
see :func:`memo_key`).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hoist.builder import events as ev
from hoist.builder.options import BuildOptions
from hoist.builder.result import BuildResult, StepResult
from hoist.store.quick import QuickReader

if TYPE_CHECKING:
    from pathlib import Path

MEMO_VERSION = 3

StatKey = str | None


def memo_identity(
    options: BuildOptions, dockerfile: bytes, dockerfile_path: str, context_dir: str | None
) -> str:
    """Everything, besides inputs on disk, that decides a build's result (canonical JSON)."""
    body = {
        "version": MEMO_VERSION,
        "dockerfile": dockerfile.decode("latin-1"),  # the bytes, whatever their encoding
        "dockerfile_path": dockerfile_path,
        "context": context_dir,
        "build_args": sorted(options.build_args.items()),
        "target": options.target,
        "labels": sorted(options.labels.items()),
        "network": options.network,
        "runtime": options.runtime,
        "machine": os.uname().machine,  # what platform.machine() answers
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def memo_key(identity: str) -> str:
    """Where the record of ``identity`` is stored: an index, not a proof.

    A CRC rather than sha256 because loading ``hashlib`` (OpenSSL) costs more
    than the rest of a replay. The record repeats the identity and
    :func:`replay` compares it in full, so a collision costs a full build
    (and the other build's record), never a wrong result.
    """
    return f"memo:crc32:{zlib.crc32(identity.encode()):08x}"


def stat_key(path: str) -> StatKey:
    """What must not change: device, inode, size, mtime, ctime and mode (None: absent).

    One string of hex numbers: a replay checks hundreds of these, and a string
    is quicker to read back from JSON, and to compare, than a list of integers.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return "%x %x %x %x %x %x" % (  # noqa: UP031 (quicker than an f-string of six format specs)
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_mode,
    )


class Inputs:
    """What a build read from disk, collected while it runs (thread-safe)."""

    def __init__(self) -> None:
        import threading  # only a full build collects inputs: the replay does without

        self._lock = threading.Lock()
        self.paths: dict[str, StatKey] = {}
        self.bases: dict[str, str] = {}
        self.spoiled: str | None = None

    def path(self, path: Path | str) -> None:
        with self._lock:
            self.paths[str(path)] = stat_key(str(path))

    def tree(self, top: Path, root: Path) -> None:
        """``top`` and everything below it, and the directories from ``root`` down to it."""
        for parent in (top, *top.parents):
            self.path(parent)
            if parent == root:
                break
        if not top.is_dir() or top.is_symlink():
            return
        for dirpath, dirnames, filenames in os.walk(top):
            for name in (*dirnames, *filenames):
                self.path(os.path.join(dirpath, name))

    def base(self, name: str, image_id: str) -> None:
        with self._lock:
            self.bases[name] = image_id

    def spoil(self, why: str) -> None:
        """This build cannot be replayed (it read something that has no stat: a URL…)."""
        self.spoiled = why


def record(
    store: Any,
    identity: str,
    result: BuildResult,
    inputs: Inputs,
    steps: Iterable[ev.StepDone],
    tags: dict[str, tuple[str, str]],
) -> None:
    """Store what replaying this build needs (nothing when it cannot be replayed).

    ``tags`` maps each tag as given to its full name and the short form docker
    prints (``app`` → ``docker.io/library/app:latest``, ``app:latest``).
    """
    if inputs.spoiled is not None:
        return
    body = {
        "identity": identity,
        "image_id": result.image_id,
        "tags": tags,
        "warnings": list(result.warnings),
        "bases": inputs.bases,
        "inputs": inputs.paths,
        "steps": [_step_json(done) for done in sorted(steps, key=lambda d: d.step.number)],
    }
    store.cache_put(memo_key(identity), result.image_id, json.dumps(body, sort_keys=True))


def _step_json(done: ev.StepDone) -> dict[str, Any]:
    ran = done.step.stage_position != 1 or done.cached or done.miss_reason is not None
    return {"ref": list(_ref_fields(done.step)), "image_id": done.image_id, "ran": ran}


def _ref_fields(ref: ev.StepRef) -> tuple[Any, ...]:
    """Every field of ``ref`` (a record written before a field was added loads with its default)."""
    return tuple(ref)


def replay(
    root: str, identity: str, tags: Iterable[str], sink: ev.EventSink
) -> BuildResult | None:
    """Replay the build recorded for ``identity`` if nothing it read has changed, else None.

    ``tags`` are as the user gave them; the recorded build must have been
    given each of them, and they must already point at the recorded image
    (tagging anew takes the full path).
    """
    started = time.monotonic()
    with QuickReader(root) as reader:
        text = reader.build_record(memo_key(identity))
        if text is None:
            return None
        body = json.loads(text)
        if body.get("identity") != identity:  # another build under the same key
            return None
        names = _recorded_tags(body, tags)
        if names is None or not _still_valid(reader, body, names):
            return None
    return _emit(body, tuple(names.values()), sink, time.monotonic() - started)


def _recorded_tags(body: dict[str, Any], tags: Iterable[str]) -> dict[str, str] | None:
    """Full name → short form of each tag, from the record; None if one is not there."""
    known = body.get("tags", {})
    names: dict[str, str] = {}
    for tag in tags:
        if tag not in known:
            return None
        full, familiar = known[tag]
        names[full] = familiar
    return names


def _still_valid(reader: QuickReader, body: dict[str, Any], tags: dict[str, str]) -> bool:
    if any(stat_key(path) != value for path, value in body["inputs"].items()):
        return False
    image_id = body["image_id"]
    wanted = {**body["bases"], **dict.fromkeys(tags, image_id)}
    if reader.tag_targets(wanted) != wanted:
        return False
    return reader.images_exist([image_id, *(s["image_id"] for s in body["steps"])])


def _emit(
    body: dict[str, Any], tags: tuple[str, ...], sink: ev.EventSink, seconds: float
) -> BuildResult:
    steps = [(ev.StepRef(*s["ref"]), s["image_id"], s["ran"]) for s in body["steps"]]
    for message in body["warnings"]:
        sink.emit(ev.BuildWarning(message))
    stages = tuple(dict.fromkeys(ref.stage for ref, _, _ in steps))
    sink.emit(ev.BuildStarted(steps[0][0].total if steps else 0, stages))
    results = []
    for ref, image_id, ran in steps:
        sink.emit(ev.StepStarted(ref))
        if ran:
            sink.emit(ev.StepCached(ref, image_id))
        sink.emit(ev.StepDone(ref, image_id, ran, 0.0))
        if ref.cli_label:  # shown as a step, but not a Dockerfile step of the result
            continue
        results.append(StepResult(ref.number, ref.stage, ref.text, ref.line, ran, image_id, 0.0))
    sink.emit(ev.BuildDone(body["image_id"], tags, seconds))
    return BuildResult(body["image_id"], tags, tuple(results), seconds, tuple(body["warnings"]))
