"""COPY/ADD alone against what Docker's BuildKit recorded (tests/compat/cases).

The full compat suite builds whole images; this replays only the COPY/ADD
steps of the file-centred cases with :mod:`hoist.builder.steps` into a plain
directory, and compares every path those steps wrote (type, mode, owner,
size, content digest, link target, hardlink group) with ``buildkit.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hoist.builder.steps.add import add_into
from hoist.builder.steps.copy import copy_into
from hoist.builder.steps.copydest import CopyOptions
from hoist.builder.steps.owner import parse_chmod, resolve_chown
from hoist.context.ignore import load_ignore
from hoist.context.select import SourceTree, select_sources
from hoist.fs.resolve import Root
from hoist.testing.compat.cases import load_case, stage_case

CASES = Path(__file__).resolve().parents[2] / "compat" / "cases"

pytestmark = pytest.mark.root


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    dest: str
    workdir: str = "/"
    chown: str | None = None
    chmod: str | None = None
    add: bool = False
    stage: str | None = None  # COPY --from: a stage tree from STAGES


REPLAYS: dict[str, tuple[tuple[str, ...], dict[str, str], list[Step]]] = {
    "copy-rules": (
        ("/renamed.txt", "/into", "/dir-contents", "/wild", "/several", "/qmark", "/work"),
        {},
        [
            Step(("one.txt",), "/renamed.txt"),
            Step(("one.txt",), "/into/"),
            Step(("dir",), "/dir-contents"),
            Step(("dir/",), "/dir-contents-slash/"),
            Step(("*.txt",), "/wild/"),
            Step(("dir/sub/*.md",), "/wild-md/"),
            Step(("one.txt", "two.txt"), "/several/"),
            Step(("d?r",), "/qmark/"),
            Step(("one.txt",), ".", workdir="/work"),
            Step(("two.txt",), "rel/", workdir="/work"),
            Step(("one.txt",), "rel-name", workdir="/work"),
        ],
    ),
    "copy-chown-chmod": (
        ("/ids", "/names", "/modes"),
        {"etc/passwd": "usr:x:2001:2000::/home/usr:/bin/sh\n", "etc/group": "grp:x:2000:\n"},
        [
            Step(("a.txt",), "/ids/a.txt", chown="1000:1000"),
            Step(("a.txt",), "/names/a.txt", chown="usr:grp"),
            Step(("a.txt",), "/names/user-only.txt", chown="usr"),
            Step(("a.txt",), "/ids/uid-only.txt", chown="3000"),
            Step(("tree",), "/names/tree/", chown="usr:grp"),
            Step(("a.txt",), "/modes/a-0600.txt", chmod="0600"),
            Step(("a.txt",), "/modes/a-755.txt", chmod="755"),
            Step(("tree",), "/modes/tree/", chmod="0640"),
        ],
    ),
    "permissions": (
        ("/p",),
        {},
        [
            Step(("suid",), "/p/suid"),
            Step(("sgid-dir",), "/p/sgid-dir/"),
            Step(("zero",), "/p/zero"),
            Step(("sticky",), "/p/sticky/"),
        ],
    ),
    "links": (("/ctx",), {}, [Step(("tree",), "/ctx/")]),
    "dockerignore": (("/ctx",), {}, [Step((".",), "/ctx/")]),
    "dockerfile-ignore": (("/ctx",), {}, [Step((".",), "/ctx/")]),
    "empty-dirs": (("/ctx",), {}, [Step(("ctx",), "/ctx/")]),
    "copy-from-stages": (
        ("/app",),
        {},
        [
            Step(("/out/artifact",), "/app/artifact", stage="builder"),
            Step(("/out/",), "/app/all/", stage="builder"),
            Step(("/second.txt",), "/app/", stage="second"),
            Step(("/out/sub",), "/app/owned/", stage="builder", chown="5:6"),
        ],
    ),
    "add-archives": (
        ("/x",),
        {},
        [
            Step(("plain.tar",), "/x/plain/", add=True),
            Step(("gz.tar.gz",), "/x/gz/", add=True),
            Step(("bz.tar.bz2",), "/x/bz/", add=True),
            Step(("xz.tar.xz",), "/x/xz/", add=True),
            Step(("plain.tar",), "/x/plain-again", add=True),
            Step(("notarchive.txt",), "/x/file.txt", add=True),
            Step(("plain.tar",), "/x/copied.tar"),
        ],
    ),
}


# What the RUN steps of copy-from-stages leave (files 0644 and dirs 0755 under umask 022).
STAGES = {
    "builder": {"out/artifact": "built\n", "out/sub/n": "nested\n"},
    "second": {"second.txt": "second\n"},
}


def make_stages(base: Path) -> None:
    for name, files in STAGES.items():
        for rel, text in files.items():
            (base / name / rel).parent.mkdir(parents=True, exist_ok=True)
            (base / name / rel).write_text(text)
    os.chmod(base / "builder" / "out" / "sub", 0o750)


def replay(ctx: Path, rootfs: Path, steps: list[Step], dockerfile: Path) -> None:
    stages = ctx.parent / "stages"
    make_stages(stages)
    with ExitStack() as stack:
        droot = stack.enter_context(Root(rootfs))
        context = SourceTree(stack.enter_context(Root(ctx)), ignore=load_ignore(ctx, dockerfile))
        for step in steps:
            tree = context
            if step.stage is not None:
                sroot = stack.enter_context(Root(stages / step.stage))
                tree = SourceTree(sroot, keep_owner=True, label=f"stage {step.stage}")
            options = CopyOptions(
                chown=resolve_chown(step.chown, droot) if step.chown else None,
                chmod=parse_chmod(step.chmod) if step.chmod else None,
            )
            sources = select_sources(tree, step.sources)
            run = add_into if step.add else copy_into
            run(sources, step.dest, step.workdir, droot, options=options)


def listing(rootfs: Path, prefixes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    inodes: dict[tuple[int, int], list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(rootfs):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = "/" + str(path.relative_to(rootfs))
            if not _under(rel, prefixes):
                continue
            st = path.lstat()
            out[rel] = _entry(path, st)
            if stat.S_ISREG(st.st_mode):
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
    for group in inodes.values():
        if len(group) > 1:
            for rel in group:
                out[rel]["hardlink"] = min(group)
    return out


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def _entry(path: Path, st: os.stat_result) -> dict[str, Any]:
    kind = "dir" if stat.S_ISDIR(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode) else "file"
    entry: dict[str, Any] = {
        "type": kind,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "uid": st.st_uid,
        "gid": st.st_gid,
    }
    if kind == "file":
        entry["size"] = st.st_size
        entry["sha256"] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    elif kind == "symlink":
        entry["target"] = os.readlink(path)
    return entry


@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_copy_steps_match_buildkit(tmp_path: Path, name: str) -> None:
    prefixes, rootfs_files, steps = REPLAYS[name]
    case = load_case(CASES / name)
    ctx = stage_case(case, tmp_path / "ctx")
    rootfs = tmp_path / "rootfs"
    for rel, text in rootfs_files.items():
        (rootfs / rel).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / rel).write_text(text)
    rootfs.mkdir(exist_ok=True)
    replay(ctx, rootfs, steps, ctx / case.dockerfile)
    recorded = json.loads((CASES / name / "buildkit.json").read_text())["files"]
    expected = {
        path: {
            k: v
            for k, v in entry.items()
            if k in ("type", "mode", "uid", "gid", "size", "sha256", "target", "hardlink")
        }
        for path, entry in recorded.items()
        if _under(path, prefixes)
    }
    got = listing(rootfs, prefixes)
    assert {p: got.get(p) for p in expected} == expected
    assert sorted(got) == sorted(expected)
