#!/usr/bin/env python3
"""Benchmark hoist against docker (classic and BuildKit) and buildah on the shared scenarios.

The scenarios come from ``make_scenarios.py`` (``/work/shared/bench``); see
bench/README.md. Every (scenario, variant) is measured ``--runs`` times; in each
run every available tool builds once, in a rotated order (interleaved, because
the machine is shared and noisy). Medians are printed with hoist's ratio to
each other tool and written to ``bench/RESULTS.md``.

    .venv/bin/python bench/run.py [--scenarios s1-seed-app,s4-many-steps] [--runs 5]
        [--tools hoist,docker-classic,docker-buildkit,buildah] [--make-scenarios PATH]

Only the build itself is timed; resetting caches and mutating the context are not.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import debian_base
from tools import DOCKER, BenchError, Tool, check, make_tools, quiet

REPO = Path(__file__).resolve().parent.parent
BASE_DOCKERFILE = REPO / "tests" / "compat" / "base" / "Dockerfile"
DEFAULT_SCENARIOS = ("s1-seed-app", "s4-many-steps", "s5-parallel-stages")
TOOLS = ("hoist", "docker-classic", "docker-buildkit", "buildah")
DEBIAN_BASE = "debian:bookworm-local"
#: Variants that mutate the context before each timed rebuild.
MUTATING = frozenset({"edit", "dep-edit", "touch", "byte"})


# --------------------------------------------------------------------------- measuring


@dataclass
class Cell:
    """Timings of one tool on one (scenario, variant)."""

    times: list[float] = field(default_factory=list)
    failures: int = 0

    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


@dataclass
class Scenarios:
    """The scenario generator: a module for listing, a script for gen/mutate."""

    script: Path
    seed: int
    module: ModuleType

    @classmethod
    def load(cls, script: Path, seed: int) -> Scenarios:
        spec = importlib.util.spec_from_file_location("make_scenarios", script)
        if spec is None or spec.loader is None or not script.exists():
            raise BenchError(f"cannot load {script} (pass --make-scenarios)")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return cls(script, seed, module)

    def variants(self, name: str) -> list[str]:
        return list(self.module.SCENARIOS[name][1])

    def bases(self, name: str) -> list[str]:
        return list(self.module.SCENARIOS[name][2])

    def generate(self, name: str, out: Path) -> Path:
        command = [sys.executable, str(self.script), "gen", "--out", str(out)]
        check([*command, "--seed", str(self.seed), name], dict(os.environ))
        return out / name

    def mutate(self, directory: Path, kind: str, step: int) -> None:
        command = [sys.executable, str(self.script), "mutate", "--dir", str(directory)]
        command += ["--kind", kind, "--step", str(step), "--seed", str(self.seed)]
        check(command, dict(os.environ))


def rotated(tools: Sequence[Tool], k: int) -> Iterator[Tool]:
    for i in range(len(tools)):
        yield tools[(i + k) % len(tools)]


def timed_build(tool: Tool, context: Path, tag: str, *, cold: bool) -> float | None:
    command = tool.command(context, tag, cold=cold)
    start = time.perf_counter()
    status, output = quiet(command, tool.env)
    elapsed = time.perf_counter() - start
    if status != 0:
        tail = "\n".join(output.splitlines()[-8:])
        print(f"    {tool.name} failed ({status}):\n{tail}", file=sys.stderr)
        return None
    return elapsed


class Settler:
    """Lets inodes deleted by earlier builds and resets age before a timed build.

    On ext4 without a journal (this machine's disk) the inode allocator checks,
    and skips, every inode deleted in the last 60 s (up to 360 s while its inode
    table block is dirty): a build creating thousands of files right after any
    tool deleted thousands pays several times the kernel time. Deletions are part
    of every tool's cycle (``docker builder prune``, the classic builder's and
    buildah's removal of intermediate containers), so without settling, whichever
    build comes next pays for the previous tool's. With ``seconds`` > 0 the disk
    is synced (the blocks are clean) and the build waits until ``seconds`` have
    passed since the previous build or reset ended, as on a journaled disk, where
    the allocator does not look at deletion times at all.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = 0.0

    def mark(self) -> None:
        self.last = time.monotonic()

    def wait(self) -> None:
        if self.seconds <= 0:
            return
        os.sync()
        time.sleep(max(0.0, self.last + self.seconds - time.monotonic()))


def measure_variant(
    tools: list[Tool], scenarios: Scenarios, name: str, variant: str, runs: int, work: Path,
    settler: Settler,
) -> dict[str, Cell]:
    context = scenarios.generate(name, work / "scenarios")
    tag = f"hoist-bench/{name}:{variant}"
    cells = {tool.name: Cell() for tool in tools}
    cold = variant == "cold"
    for tool in tools:  # all first: docker's two builders share one image store
        tool.begin_variant(work)
    for tool in tools:
        if not cold:  # warm-up build, not timed: the cache every later run starts from
            timed_build(tool, context, f"{tag}-{tool.name}", cold=False)
    for k in range(runs):
        if variant in MUTATING:
            scenarios.mutate(context, variant, k + 1)
        if cold:  # every reset before any timed build, then written out: deleting a store
            for tool in tools:  # leaves the disk busy for seconds, which must not land
                tool.reset(work)  # on whichever build comes next
            os.sync()
        settler.mark()
        for tool in rotated(tools, k):
            settler.wait()
            elapsed = timed_build(tool, context, f"{tag}-{tool.name}", cold=cold)
            settler.mark()
            cell = cells[tool.name]
            if elapsed is None:
                cell.failures += 1
            else:
                cell.times.append(elapsed)
        print(f"  {name} {variant} run {k + 1}: " + _run_line(cells), flush=True)
    return cells


def _run_line(cells: dict[str, Cell]) -> str:
    return ", ".join(f"{n} {c.times[-1]:.2f}s" if c.times else f"{n} -" for n, c in cells.items())


# --------------------------------------------------------------------------- reporting

Results = dict[tuple[str, str], dict[str, Cell]]


def _fmt(cell: Cell | None) -> str:
    if cell is None or not cell.times:
        return "failed" if cell is not None and cell.failures else "—"
    text = f"{cell.median():.2f} s"
    if len(cell.times) > 1:
        text += f" ({min(cell.times):.2f}-{max(cell.times):.2f})"
    return text + (f" [{cell.failures} failed]" if cell.failures else "")


def _ratio(hoist: Cell | None, other: Cell | None) -> str:
    a = hoist.median() if hoist else None
    b = other.median() if other else None
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def table(results: Results, tools: Sequence[str]) -> list[str]:
    others = [t for t in tools if t != "hoist"] if "hoist" in tools else []
    header = ["scenario", "variant", *tools] + [f"hoist / {t}" for t in others]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (scenario, variant), cells in results.items():
        row = [scenario, variant, *(_fmt(cells.get(t)) for t in tools)]
        row += [_ratio(cells.get("hoist"), cells.get(t)) for t in others]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def environment() -> list[str]:
    def first_line(command: list[str]) -> str:
        status, output = quiet(command)
        return output.splitlines()[0].strip() if status == 0 and output else "not available"

    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs, Linux {platform.release()}",
        f"- hoist: commit {first_line(['git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD'])}",
        f"- docker: {first_line([DOCKER, 'version', '--format', '{{.Server.Version}}'])}",
        f"- buildah: {first_line(['buildah', '--version'])}",
    ]


def write_results(path: Path, results: Results, tools: Sequence[str], notes: list[str]) -> None:
    lines = ["# Benchmark results", "", "Written by `bench/run.py`; see bench/README.md.", ""]
    lines += environment()
    lines += ["", "Median wall time of the build command (min-max over the runs).", ""]
    lines += table(results, tools)
    if notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in notes)]
    path.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--make-scenarios",
        type=Path,
        default=REPO.parent / "shared" / "bench" / "make_scenarios.py",
        help="path of make_scenarios.py (default: ../shared/bench/ beside the repository)",
    )
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    parser.add_argument("--variants", default="", help="only these variants (default: all)")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--work-dir", type=Path, default=Path("/var/lib/hoist-bench"),
        help="where contexts and hoist's stores go (default beside /var/lib/docker, as an "
        "installed hoist's /var/lib/hoist would be: where a directory sits on the disk "
        "changes how fast files are created in it)",
    )
    parser.add_argument(
        "--settle", type=float, default=0.0, metavar="SECONDS",
        help="before each timed build, sync and wait until SECONDS have passed since the "
        "previous build or reset (61 lets deleted inodes age out of ext4's no-journal "
        "allocator check; see bench/README.md); default 0",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hoist", type=Path, default=REPO / ".venv" / "bin" / "hoist")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    parser.add_argument("--note", action="append", default=[], help="a line for RESULTS.md")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=REPO / ".hoist-demo",
        help="where the s6 Debian base tarball and apt mirror are kept (default: .hoist-demo/)",
    )
    return parser.parse_args(argv)


def _set_up(
    tools: list[Tool], base: Path, work: Path, debian_tar: Path | None, notes: list[str]
) -> list[Tool]:
    """The tools that could make their base images; a note for each that could not."""
    ready = []
    for tool in tools:
        try:
            tool.setup(base, work)
            if debian_tar is not None:
                tool.import_base(debian_tar, DEBIAN_BASE)
        except BenchError as exc:
            lines = str(exc).splitlines()
            why = next((line for line in lines[1:] if "error" in line.lower()), lines[-1])
            notes.append(f"{tool.name} not measured: making its base images failed: {why.strip()}")
            print(f"note: {tool.name}: {exc}", file=sys.stderr)
        else:
            ready.append(tool)
    return ready


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like ^C, so the mirror server stops and the work dir is removed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    scenarios = Scenarios.load(args.make_scenarios, args.seed)
    tools, skipped = make_tools(args.tools.split(","), args.hoist)
    notes = [f"{name} not measured: {why}" for name, why in skipped.items()] + args.note
    if args.settle > 0:
        notes.append(f"--settle {args.settle:g}: each timed build started after a sync and at "
                     f"least {args.settle:g} s after the previous build or reset ended")
    for note in notes:
        print(f"note: {note}")
    results: Results = {}
    names = args.scenarios.split(",")
    with ExitStack() as stack:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        work = Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="run-", dir=args.work_dir)))
        base = work / "base"
        base.mkdir()
        shutil.copy(BASE_DOCKERFILE, base / "Dockerfile")
        shutil.copy("/bin/busybox", base / "busybox")
        debian_tar = None
        if any(DEBIAN_BASE in scenarios.bases(name) for name in names):
            debian_tar = _debian(stack, args.cache_dir)
        tools = _set_up(tools, base, work, debian_tar, notes)
        wanted = set(filter(None, args.variants.split(",")))
        settler = Settler(args.settle)
        for name in names:
            for variant in scenarios.variants(name):
                if not wanted or variant in wanted:
                    results[name, variant] = measure_variant(
                        tools, scenarios, name, variant, args.runs, work, settler
                    )
    tool_names = [t.name for t in tools]
    print("\n".join(table(results, tool_names)))
    write_results(args.out, results, tool_names, notes)
    print(f"wrote {args.out}")
    return 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _debian(stack: ExitStack, cache: Path) -> Path:
    """The Debian base tarball; its apt mirror is served on 127.0.0.1 until ``stack`` closes."""
    try:
        tarball = debian_base.bookworm_tarball(cache)
        mirror = debian_base.apt_mirror(cache, tarball)
        url = stack.enter_context(debian_base.serve(mirror))
    except debian_base.DebianError as exc:
        raise BenchError(str(exc)) from exc
    print(f"bench: apt mirror {mirror} served at {url}", flush=True)
    return tarball


if __name__ == "__main__":
    raise SystemExit(main())
