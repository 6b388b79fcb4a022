"""Entry point: builds the parser from the command modules, maps errors to exit codes.

Each command module exposes ``register(subparsers)`` which adds its parser and
sets ``handler`` to a function ``(args) -> int``. Command modules import heavy
machinery inside their handlers so that ``hoist --help`` stays fast.
"""

from __future__ import annotations

import argparse
import functools
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


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, sized to the terminal without importing :mod:`shutil`.

    argparse makes a formatter for every ``add_argument`` call, and the default
    one imports ``shutil`` for the width: a noticeable share of a no-op build.
    The width follows ``shutil.get_terminal_size``: ``$COLUMNS``, else the
    terminal on stdout, else 80.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_columns() - 2)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, only that command's module is loaded."""
    parser = argparse.ArgumentParser(
        prog="hoist",
        description="Build container images from Dockerfiles, without a daemon.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--root", help="store directory (default: $HOIST_ROOT or /var/lib/hoist)")
    parser.add_argument("--version", action="version", version=_version())
    # every command's parser formats its help the same way (a command may still pass its own)
    command_parser = functools.partial(argparse.ArgumentParser, formatter_class=HelpFormatter)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=command_parser
    )
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
    module = _command_module(argv)
    if module is not None and module != "hoist.cli.build":
        # every command but a replayed build uses msgspec, whose import loses a ^C landing in
        # it; a build imports it (held too) only when it does not replay (builder.api)
        from hoist.runtime.signals import import_held

        import_held("msgspec")
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


#: The store directories whose entries start-up recovery examines (hoist.runtime.recovery).
RECOVERED_DIRS = ("containers", "snapshots")


def _recover_abandoned(root: str | None) -> None:
    """Clean containers and mounts a killed hoist left in the store (cheap, never raises).

    Recovery is imported only when one of :data:`RECOVERED_DIRS` has an entry:
    most commands find them empty, and a listing costs less than the import.
    """
    from hoist.store.location import default_root_dir

    store = root or default_root_dir()
    if not any(_has_entries(os.path.join(store, name)) for name in RECOVERED_DIRS):
        return
    from hoist.runtime.signals import import_held

    import_held("msgspec")
    from hoist.runtime.recovery import recover_for_cli

    recover_for_cli(root)


def _has_entries(directory: str) -> bool:
    """Whether ``directory`` exists and is not empty (False when it cannot be listed)."""
    try:
        with os.scandir(directory) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


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
