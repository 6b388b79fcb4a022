"""Entry point: builds the parser from the command modules, maps errors to exit codes.

Each command module exposes ``register(subparsers)`` which adds its parser and
sets ``handler`` to a function ``(args) -> int``. Command modules import heavy
machinery inside their handlers so that ``hoist --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hoist.errors import DockerfileError, HoistError

COMMAND_MODULES = (
    "hoist.cli.archive",
    "hoist.cli.build",
    "hoist.cli.containers",
    "hoist.cli.images",
    "hoist.cli.lint",
    "hoist.cli.maintenance",
    "hoist.cli.run",
)


#: Which module registers each command, so that running one imports only its module.
COMMANDS = {
    "build": "hoist.cli.build",
    "run": "hoist.cli.run",
    "images": "hoist.cli.images",
    "inspect": "hoist.cli.images",
    "history": "hoist.cli.images",
    "tag": "hoist.cli.images",
    "rmi": "hoist.cli.images",
    "save": "hoist.cli.archive",
    "load": "hoist.cli.archive",
    "import": "hoist.cli.archive",
    "prune": "hoist.cli.maintenance",
    "fsck": "hoist.cli.maintenance",
    "ps": "hoist.cli.containers",
    "rm": "hoist.cli.containers",
    "shell": "hoist.cli.containers",
    "lint": "hoist.cli.lint",
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, only that command's module is loaded."""
    parser = argparse.ArgumentParser(
        prog="hoist", description="Build container images from Dockerfiles, without a daemon."
    )
    parser.add_argument("--root", help="store directory (default: $HOIST_ROOT or /var/lib/hoist)")
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _command_module(argv)
    for name in (chosen,) if chosen else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _command_module(argv: list[str] | None) -> str | None:
    """The module of the command ``argv`` runs (the first word that is not an option)."""
    if argv is None:
        return None
    words = iter(argv)
    for word in words:
        if word == "--root":
            next(words, None)
        elif not word.startswith("-"):
            return COMMANDS.get(word)
    return None


def _version() -> str:
    from hoist import __version__

    return f"hoist {__version__}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    _recover_abandoned(args.root)
    try:
        return int(handler(args) or 0)
    except HoistError as exc:
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hoist: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("HOIST_DEBUG"):
            raise
        print(f"hoist: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: run again with HOIST_DEBUG=1 for a traceback, and report it", file=sys.stderr)
        return 70


def _recover_abandoned(root: str | None) -> None:
    """Clean containers and mounts a killed hoist left in the store (cheap, never raises)."""
    from hoist.runtime.recovery import recover_for_cli

    recover_for_cli(root)


def report_error(exc: HoistError) -> None:
    """Print a HoistError as a diagnostic on stderr."""
    if os.environ.get("HOIST_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, DockerfileError):
        try:
            from hoist.dockerfile.diagnostics import render
        except ImportError:
            pass
        else:
            print(render(exc), file=sys.stderr)
            return
    print(f"hoist: error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)
