"""Golden directories: tests/golden/parse/<case>/{Dockerfile,result} and
tests/golden/parse_errors/<case>/{Dockerfile,expected}.

Set HOIST_UPDATE_GOLDEN=1 to (re)write the expected files, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hoist.dockerfile import parse_bytes
from hoist.dockerfile.diagnostics import render
from hoist.errors import DockerfileError
from tests.unit.dockerfile.golden import GOLDEN, dump

UPDATE = bool(os.environ.get("HOIST_UPDATE_GOLDEN"))


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (GOLDEN / kind).iterdir() if p.is_dir())


def _check(path: Path, got: str) -> None:
    if UPDATE:
        path.write_text(got)
    assert got == path.read_text()


@pytest.mark.parametrize("case", _cases("parse"), ids=lambda p: p.name)
def test_parse(case: Path) -> None:
    df = parse_bytes((case / "Dockerfile").read_bytes())
    _check(case / "result", dump(df))


@pytest.mark.parametrize("case", _cases("parse_errors"), ids=lambda p: p.name)
def test_parse_error(case: Path) -> None:
    with pytest.raises(DockerfileError) as info:
        parse_bytes((case / "Dockerfile").read_bytes())
    _check(case / "expected", render(info.value) + "\n")
