#!/usr/bin/env python3
"""Record what Docker's BuildKit (and classic builder) make of the compat cases.

Needs a running dockerd (``tools/start_docker.sh``) and ``/usr/bin/docker``.
For every case directory ``tests/compat/cases/<case>/`` (or those named):
stage the context (``hoist.testing.compat_cases.stage_case``), build it with
``DOCKER_BUILDKIT=1``, ``docker save`` the image, and write the snapshot to
``<case>/buildkit.json``. ``busybox:local`` is built first from
``tests/compat/base`` (and recorded to ``base/buildkit.json``).

    .venv/bin/python tools/record_buildkit.py [CASE ...]
    .venv/bin/python tools/record_buildkit.py --classic CASE [CASE ...]

``--classic`` writes the classic builder's (``DOCKER_BUILDKIT=0``) output
transcript to ``<case>/classic.txt`` instead; it also takes case directories
outside ``cases/`` (``tests/compat/transcripts/*``: builds that fail on purpose).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hoist.testing.compat import (
    CompatCase,
    dumps_snapshot,
    list_cases,
    load_case,
    snapshot_docker_archive,
    stage_case,
)

REPO = Path(__file__).resolve().parent.parent
COMPAT = REPO / "tests" / "compat"
DOCKER = "/usr/bin/docker"


def build_command(case: CompatCase, context: Path, tag: str) -> list[str]:
    command = [DOCKER, "build", "--network=host", "-f", str(context / case.dockerfile)]
    for name, value in sorted(case.build_args.items()):
        command += ["--build-arg", f"{name}={value}"]
    if case.target:
        command += ["--target", case.target]
    for extra in (tag, *case.tags):
        command += ["-t", extra]
    return [*command, str(context)]


def run(command: list[str], *, buildkit: bool, check: bool = True) -> tuple[int, str]:
    """Run a docker command; stdout and stderr merged in order, as a terminal shows them."""
    env = dict(os.environ, DOCKER_BUILDKIT="1" if buildkit else "0", BUILDKIT_PROGRESS="plain")
    proc = subprocess.run(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout}")
    return proc.returncode, proc.stdout


def record(case: CompatCase, work: Path) -> None:
    context = stage_case(case, work / case.name)
    tag = f"hoist-compat/{case.name}:buildkit"
    run(build_command(case, context, tag), buildkit=True)
    archive = work / f"{case.name}.tar"
    run([DOCKER, "save", "-o", str(archive), tag], buildkit=True)
    snapshot = snapshot_docker_archive(archive, tag)
    case.expected.write_text(dumps_snapshot(snapshot))
    print(f"recorded {case.name}: {snapshot.layers} layers, {len(snapshot.files)} paths")


def record_classic(case: CompatCase, work: Path) -> None:
    """Write the classic builder's transcript; a failing build's too (exit status appended)."""
    context = stage_case(case, work / case.name)
    tag = f"hoist-compat/{case.name}:classic"
    command = build_command(case, context, tag)
    command.insert(2, "--no-cache")
    status, output = run(command, buildkit=False, check=False)
    if status != 0:
        output += f"[exit status {status}]\n"
    (case.directory / "classic.txt").write_text(output)
    print(f"recorded classic transcript of {case.name} (exit status {status})")


def _select(names: list[str]) -> list[CompatCase]:
    """Cases by name (from tests/compat/cases) or by directory path; all cases if none named."""
    if not names:
        return list_cases(COMPAT / "cases")
    return [load_case(Path(n) if "/" in n else COMPAT / "cases" / n) for n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classic", action="store_true", help="record classic.txt transcripts")
    parser.add_argument("cases", nargs="*", help="case names or directories (default: all)")
    args = parser.parse_args(argv)
    cases = _select(args.cases)
    with tempfile.TemporaryDirectory(prefix="hoist-record-") as tmp:
        work = Path(tmp)
        if args.classic:
            for case in cases:
                record_classic(case, work)
            return 0
        record(load_case(COMPAT / "base"), work)
        for case in cases:
            record(case, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
