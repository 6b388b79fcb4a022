"""The import budget of a replayed no-op build and of ``hoist build --help``.

A rebuild where nothing changed should cost little more than Python's start-up
(``hoist.builder.memo``). These tests run the CLI in a fresh interpreter and
list the modules it loaded, so that a heavy import slipping onto that path
fails here rather than in a benchmark. They never time anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.root

#: Runs ``hoist ARGS`` as the console script does; writes its exit code and the
#: modules it loaded (beyond those of the bare interpreter) to the file ``argv[1]``.
PROBE = """
import json, sys
before = set(sys.modules)
from hoist.cli.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:  # argparse's --help
    code = exc.code
loaded = sorted(set(sys.modules) - before)
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "loaded": loaded}, f)
"""

#: Standard-library modules a no-op build has no use for (each costs milliseconds).
HEAVY_STDLIB = (
    "dataclasses",
    "msgspec",
    "hashlib",
    "inspect",
    "ast",
    "pathlib",
    "shutil",
    "tempfile",
    "threading",
    "subprocess",
    "tarfile",
    "platform",
    "urllib",
    "ipaddress",
    "rich",
)

#: hoist's own machinery of the full path: parser, planner, store, runtime…
FULL_PATH = (
    "hoist.models",
    "hoist.dockerfile",
    "hoist.plan",
    "hoist.context",
    "hoist.cache",
    "hoist.image",
    "hoist.layer",
    "hoist.snapshot",
    "hoist.runtime",
    "hoist.export",
    "hoist.fs",
    "hoist.store.store",
    "hoist.store.db",
    "hoist.store.blobs",
    "hoist.builder.executor",
    "hoist.builder.stage",
    "hoist.builder.steps",
    "hoist.builder.context",
)

APP = {
    "Dockerfile": "FROM busybox:local\nWORKDIR /app\nCOPY dep.txt .\n"
    'RUN cat dep.txt > installed.txt\nCOPY . .\nCMD ["cat", "/app/src.txt"]\n',
    "dep.txt": "dep 1\n",
    "src/a.txt": "a\n",
}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ctx = tmp_path_factory.mktemp("budget-ctx")
    for name, text in APP.items():
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(text)
    return ctx


def probe(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    """Run the CLI in a fresh interpreter: (its exit code and loaded modules, its stdout)."""
    report = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert report.exists(), done.stderr
    return json.loads(report.read_text()), done.stdout


def forbidden(loaded: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in loaded if any(m == n or m.startswith(n + ".") for n in names)]


def build_args(root: Path, ctx: Path) -> tuple[str, ...]:
    # as the benchmark runs it: -f given, stdout a pipe (the classic renderer)
    return ("--root", str(root), "build", "-t", "budget/app:1", "-f", str(ctx / "Dockerfile"),
            str(ctx))


def test_a_replayed_build_imports_nothing_heavy(
    root: Path, context: Path, tmp_path: Path
) -> None:
    first, output = probe(tmp_path, *build_args(root, context))
    assert first["code"] == 0, output
    assert "hoist.builder.executor" in first["loaded"]  # the full path, which records
    again, output = probe(tmp_path, *build_args(root, context))
    assert again["code"] == 0, output
    assert output.count(" ---> Using cache") == 5 and "Running in" not in output, output
    assert "Successfully tagged budget/app:1" in output
    assert forbidden(again["loaded"], FULL_PATH) == []
    assert forbidden(again["loaded"], HEAVY_STDLIB) == []


def test_the_store_from_the_environment_costs_no_more(
    root: Path, context: Path, tmp_path: Path
) -> None:
    probe(tmp_path, *build_args(root, context))
    args = build_args(root, context)[2:]  # no --root: $HOIST_ROOT
    again, output = probe(tmp_path, *args, env={"HOIST_ROOT": str(root)})
    assert again["code"] == 0 and "Running in" not in output, output
    assert forbidden(again["loaded"], (*FULL_PATH, *HEAVY_STDLIB)) == []


def test_a_changed_source_takes_the_full_path(root: Path, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for name, text in APP.items():
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(text)
    probe(tmp_path, *build_args(root, ctx))
    (ctx / "src" / "a.txt").write_text("changed\n")
    changed, output = probe(tmp_path, *build_args(root, ctx))
    assert changed["code"] == 0, output
    assert "hoist.builder.executor" in changed["loaded"]  # the budget test is not vacuous
    assert forbidden(changed["loaded"], FULL_PATH) != []


def test_build_help_imports_nothing_heavy(tmp_path: Path) -> None:
    shown, output = probe(tmp_path, "build", "--help")
    assert shown["code"] == 0
    assert "usage: hoist build" in output
    assert forbidden(shown["loaded"], (*FULL_PATH, "hoist.builder", "hoist.store")) == []
    assert forbidden(shown["loaded"], HEAVY_STDLIB) == []
