"""The CLI's start-up: recovery runs only when there is something to look at."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hoist.cli.main import HelpFormatter, _has_entries, _recover_abandoned, build_parser
from hoist.runtime.owner import process_start_time


def _dead_snapshot(root: Path) -> Path:
    child = subprocess.Popen(["true"])
    started = process_start_time(child.pid) or 0
    child.wait()
    directory = root / "snapshots" / "dead"
    directory.mkdir(parents=True)
    record = {"pid": child.pid, "start_time": started, "kind": "snapshot"}
    (directory / "owner.json").write_text(json.dumps(record))
    return directory


def test_has_entries(tmp_path: Path) -> None:
    assert not _has_entries(str(tmp_path / "absent"))
    assert not _has_entries(str(tmp_path))
    (tmp_path / "x").mkdir()
    assert _has_entries(str(tmp_path))
    assert not _has_entries(str(tmp_path / "x" / "file-not-dir"))


@pytest.mark.root  # recovery unmounts (a no-op here) before removing
def test_an_abandoned_snapshot_is_cleaned_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "containers").mkdir()
    dead = _dead_snapshot(tmp_path)
    _recover_abandoned(str(tmp_path))
    assert not dead.exists()


STARTUP_PROBE = """
import sys
from hoist.cli.main import _recover_abandoned
_recover_abandoned(sys.argv[1])
print("hoist.runtime.recovery" in sys.modules)
"""


@pytest.mark.parametrize("leftover", [False, True])
def test_recovery_is_imported_only_for_a_leftover(tmp_path: Path, leftover: bool) -> None:
    for name in ("containers", "snapshots"):
        (tmp_path / name).mkdir()
    if leftover:  # a young directory without record: looked at, left alone
        (tmp_path / "containers" / "young").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert done.stdout == f"{leftover}\n"
    assert (tmp_path / "containers" / "young").exists() == leftover


def test_help_width_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert HelpFormatter("hoist")._width == 48
    monkeypatch.setenv("COLUMNS", "not a number")
    assert HelpFormatter("hoist")._width > 0  # the terminal, else 80 columns
    text = build_parser(["build"]).format_help()
    assert "COMMAND" in text and "--root" in text
