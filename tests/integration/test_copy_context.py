"""COPY of a whole context through the real build path (store-backed checksum memo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hoist
from hoist.store import Store

pytestmark = pytest.mark.root

ODD = os.fsdecode(b"caf\xe9-\xff.txt")  # Latin-1 bytes: not UTF-8


def run(root: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "hoist", "--root", str(root), "run", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return os.fsdecode(proc.stdout)


def test_non_utf8_names_build_hit_and_miss(root: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:local\nCOPY . /d/\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ODD).write_text("one\n")
    first = hoist.build(tmp_path, tags=["copyctx/odd"], root=root)
    shown = run(root, "copyctx/odd", "sh", "-c", "echo /d/sub/*; cat /d/sub/*")
    assert shown == f"/d/sub/{ODD}\none\n"
    again = hoist.build(tmp_path, tags=["copyctx/odd"], root=root)
    assert (again.image_id, again.steps[-1].cached) == (first.image_id, True)
    (tmp_path / "sub" / ODD).write_text("two\n")
    changed = hoist.build(tmp_path, tags=["copyctx/odd"], root=root)
    assert not changed.steps[-1].cached
    assert run(root, "copyctx/odd", "sh", "-c", "cat /d/sub/*") == "two\n"


def test_many_files_copied_once_and_memoised(root: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:local\nCOPY . /d/\n")
    for i in range(300):
        sub = tmp_path / f"t{i % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i}").write_text(f"{i}\n")
    first = hoist.build(tmp_path, tags=["copyctx/many"], root=root)
    listing = run(root, "copyctx/many", "sh", "-c", "cat /d/t*/f* | sort -n | tail -1; ls -A /d/t0")
    assert listing.splitlines()[0] == "299"
    assert not [n for n in listing.split() if n.startswith(".hoist")]
    with Store.open(root) as store:
        memo = store.checksums_under(str(tmp_path) + "/")
    assert len(memo) == 301  # every file, the Dockerfile too, in the store's memo
    os.utime(tmp_path / "t3" / "f3", (1, 1))  # new mtime, same content: a cache hit
    assert hoist.build(tmp_path, tags=["copyctx/many"], root=root).image_id == first.image_id
