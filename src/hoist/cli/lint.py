"""``hoist lint [-f FILE] [CONTEXT] [--fix]``: BuildKit's build checks on a Dockerfile."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "lint",
        help="check a Dockerfile against BuildKit's build-check rules",
        description="Check a Dockerfile against BuildKit's build-check rules. "
        "Honours the file's '# check=skip=...;error=true' directive.",
    )
    parser.add_argument("context", nargs="?", default=".", help="build context (default: .)")
    parser.add_argument(
        "-f", "--file", help="Dockerfile (default: CONTEXT/Dockerfile; - for stdin)"
    )
    parser.add_argument(
        "--fix", action="store_true", help="rewrite the mechanical findings in place"
    )
    parser.add_argument(
        "--build-arg", action="append", default=[], metavar="KEY=VALUE", help="a build argument"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show each finding with its source lines"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hoist.dockerfile import lint as lint_mod
    from hoist.dockerfile.lint import render

    path, filename = _dockerfile_path(args)
    text = _read(path)
    _validate(text, filename)
    build_args = _build_args(args.build_arg)
    if args.fix:
        if path is None:
            raise _usage("--fix needs a Dockerfile on disk, not stdin")
        result = lint_mod.fix(text, build_args=build_args, filename=filename)
        if result.fixed:
            _write_atomic(path, result.text)
            print(f"fixed {len(result.fixed)} problem(s) in {filename}")
        text = result.text
    report = lint_mod.lint(text, build_args=build_args, filename=filename)
    lines = text.removeprefix("\ufeff").splitlines()
    for warning in report.warnings:
        shown = render.detailed(warning, lines, filename) if args.verbose else render.short(warning)
        print(shown)
    if args.verbose:
        print(render.summary(len(report.warnings)))
    if report.failed:
        names = ", ".join(dict.fromkeys(w.rule.name for w in report.warnings))
        print(f"hoist: error: lint violation found for rules: {names}", file=sys.stderr)
        return 1
    return 0


def _dockerfile_path(args: argparse.Namespace) -> tuple[Path | None, str]:
    if args.file == "-":
        return None, "Dockerfile"
    path = Path(args.file) if args.file else Path(args.context) / "Dockerfile"
    return path, path.name if not args.file else args.file


def _read(path: Path | None) -> str:
    from hoist.errors import DockerfileError

    try:
        data = sys.stdin.buffer.read() if path is None else path.read_bytes()
    except OSError as exc:
        raise DockerfileError(
            f"reading Dockerfile {path}: {exc.strerror or exc}",
            code="dockerfile-not-found",
            hint="pass the Dockerfile with -f, or the build context as CONTEXT",
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DockerfileError(
            f"reading Dockerfile {path or '-'}: not valid UTF-8 at byte {exc.start}",
            code="dockerfile-not-utf8",
        ) from exc


def _validate(text: str, filename: str) -> None:
    """Parse with the full frontend first: an unknown instruction or a bad flag is
    a diagnostic, as ``docker build --check`` fails on it."""
    try:
        from hoist.dockerfile import parse
    except ImportError:  # the frontend is not installed: lint reads the text alone
        return
    parse(text, filename)


def _build_args(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        out[key] = value if eq else os.environ.get(key, "")
    return out


def _write_atomic(path: Path, text: str) -> None:
    from hoist.errors import UserInputError

    try:
        mode = path.stat().st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserInputError(f"writing fixed Dockerfile {path}: {exc.strerror or exc}") from exc


def _usage(message: str) -> Exception:
    from hoist.errors import UserInputError

    return UserInputError(f"lint: {message}")
