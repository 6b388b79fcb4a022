"""The context BuildKit sent for the recorded compat cases, reproduced with
:mod:`hoist.context.ignore` and a walker that follows fsutil's rules.

``tests/compat/cases/<case>/buildkit.json`` was recorded from Docker's BuildKit
(see tests/compat/README.md); each case here does ``COPY . /ctx/``, so the
paths under ``/ctx`` are exactly what the ignore file let through.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hoist.context import IgnoreMatcher, load_ignore
from hoist.testing.compat.cases import load_case, stage_case

CASES = Path(__file__).resolve().parents[2] / "compat" / "cases"


def _walk(root: Path, matcher: IgnoreMatcher) -> set[str]:
    """What fsutil sends: included entries plus the parents of included entries,
    never descending into a directory it may prune."""
    kept: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath).relative_to(root).as_posix()
        for name in list(dirnames):
            rel = name if base == "." else f"{base}/{name}"
            if matcher.can_prune(rel):
                dirnames.remove(name)
            elif not matcher.matches(rel):
                kept.add(rel)
        for name in filenames:
            rel = name if base == "." else f"{base}/{name}"
            if not matcher.matches(rel):
                parts = rel.split("/")
                kept.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return kept


@pytest.mark.parametrize("name", ["dockerignore", "dockerfile-ignore"])
def test_context_matches_recorded_buildkit(name: str, tmp_path: Path) -> None:
    case = load_case(CASES / name)
    context = stage_case(case, tmp_path / "ctx")
    matcher = load_ignore(context, context / case.dockerfile)
    recorded = json.loads(case.expected.read_text())["files"]
    expected = {path.removeprefix("/ctx/") for path in recorded if path.startswith("/ctx/")}
    assert _walk(context, matcher) == expected
