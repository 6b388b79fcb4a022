"""hoist against Docker's BuildKit: every case under cases/ built and compared.

The expected results (``cases/<case>/buildkit.json``) were recorded by
``tools/record_buildkit.py`` with Docker 20.10's BuildKit; no Docker daemon is
needed here. Each case is staged (``stage_case``) exactly as it was for the
recording, built by ``hoist.build`` as root into a temporary store, exported
with ``hoist save`` and compared with ``diff_snapshots``. Deliberate
differences are listed in README.md: the ones every case shares in
:data:`SHARED_ALLOWANCE`, a case's own under ``allow`` in its ``build.json``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hoist
from hoist.testing.compat import (
    Allowance,
    CompatCase,
    ImageSnapshot,
    diff_snapshots,
    format_report,
    list_cases,
    load_case,
    load_snapshot,
    snapshot_docker_archive,
    stage_case,
)

COMPAT = Path(__file__).parent
CASES = list_cases(COMPAT / "cases")
#: Differences every case is allowed (see README.md, "Deliberate differences"): none
#: today, hoist matches BuildKit's created_by too. ``Allowance(fields=frozenset(
#: {"history.created_by"}))`` compares history by instruction keyword only.
SHARED_ALLOWANCE = Allowance()

pytestmark = pytest.mark.root


@pytest.fixture(scope="session")
def compat_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding ``busybox:local`` built by hoist from tests/compat/base."""
    root = tmp_path_factory.mktemp("compat") / "store"
    base = load_case(COMPAT / "base")
    _build(base, stage_case(base, root.parent / "base-context"), root)
    return root


def _build(case: CompatCase, context: Path, root: Path) -> Any:
    return hoist.build(
        context,
        dockerfile=context / case.dockerfile,
        tags=(_tag(case), *case.tags),
        build_args=dict(case.build_args),
        target=case.target,
        root=root,
    )


def _tag(case: CompatCase) -> str:
    return f"hoist-compat/{case.name}:hoist"


def _export(root: Path, ref: str, archive: Path) -> ImageSnapshot:
    """``hoist save`` the image to a docker-archive and snapshot it (as the oracle was)."""
    command = [sys.executable, "-m", "hoist", "--root", str(root), "save", "-o", str(archive), ref]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ)
    assert proc.returncode == 0, f"hoist save failed:\n{proc.stderr}"
    return snapshot_docker_archive(archive)


def test_base_image_matches(compat_store: Path, tmp_path: Path) -> None:
    base = load_case(COMPAT / "base")
    actual = _export(compat_store, "busybox:local", tmp_path / "base.tar")
    differences = diff_snapshots(load_snapshot(base.expected), actual, SHARED_ALLOWANCE)
    assert not differences, format_report(differences, title="busybox:local")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_matches_buildkit(case: CompatCase, compat_store: Path, tmp_path: Path) -> None:
    context = stage_case(case, tmp_path / "context")
    _build(case, context, compat_store)
    actual = _export(compat_store, _tag(case), tmp_path / "image.tar")
    allow = SHARED_ALLOWANCE.merged(case.allow)
    differences = diff_snapshots(load_snapshot(case.expected), actual, allow)
    assert not differences, format_report(differences, title=case.name)
