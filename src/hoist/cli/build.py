"""``hoist build``: build an image from a Dockerfile, with docker's flag names."""

from __future__ import annotations

import argparse
import sys

from hoist.errors import UserInputError

PROGRESS_MODES = ("auto", "classic", "plain", "tty", "json")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "build",
        help="build an image from a Dockerfile",
        description="Build an image from a Dockerfile, step by step, keeping every "
        "intermediate image for the cache. CONTEXT may be '-' (Dockerfile on stdin, no "
        "context); '-f -' reads the Dockerfile from stdin with CONTEXT as the context.",
    )
    add = parser.add_argument
    add("-f", "--file", metavar="FILE",
        help="the Dockerfile (default CONTEXT/Dockerfile; '-': stdin)")  # fmt: skip
    add("-t", "--tag", action="append", default=[], metavar="NAME:TAG", help="tag the image")
    add("--build-arg", action="append", default=[], metavar="K=V", help="set a build arg")
    add("--target", metavar="STAGE", help="build up to this stage")
    add("--no-cache", action="store_true", help="run every step again")
    add(
        "--network",
        choices=("default", "host", "none"),
        default="default",
        help="network for RUN steps (default: the host's; none: loopback only)",
    )
    add("--label", action="append", default=[], metavar="K=V",
        help="add a label to the image (K alone: an empty value)")  # fmt: skip
    add("-q", "--quiet", action="store_true", help="print only the image ID")
    add("--iidfile", metavar="FILE", help="write the image ID to FILE")
    add("--rm", dest="rm", action="store_true", default=True,
        help="remove intermediate containers after a successful step (default; "
        "--rm=false keeps every RUN container: hoist ps -a)")  # fmt: skip
    # docker's bool flags take "=false": exact option strings, so "--rm CONTEXT" still works
    add(*_spellings("--rm", False), "--no-rm", dest="rm", action="store_false",
        help=argparse.SUPPRESS)  # fmt: skip
    add(*_spellings("--rm", True), dest="rm", action="store_true", help=argparse.SUPPRESS)
    add("--force-rm", action="store_true", help="always remove intermediate containers")
    add("--progress", choices=PROGRESS_MODES, default="auto", help="output format")
    add("--runtime", choices=("crun", "runc"), default="crun", help="OCI runtime for RUN")
    add("--check", action="store_true", help="only run the build checks (lint) and exit")
    add("context", metavar="CONTEXT")
    parser.set_defaults(handler=_build)


def _spellings(flag: str, value: bool) -> list[str]:
    """``--rm=false`` and the other spellings Go's strconv.ParseBool takes for ``value``."""
    words = ("1", "t", "T", "true", "TRUE", "True") if value else (
        "0", "f", "F", "false", "FALSE", "False")  # fmt: skip
    return [f"{flag}={word}" for word in words]


def _pairs(items: list[str], what: str, *, from_env: bool) -> dict[str, str]:
    """``K=V`` items. ``K`` alone, as docker: with ``from_env`` (build args) its value
    from the environment, left out when unset there; else (labels) the empty value.

    Raises:
        UserInputError: an item with no key.
    """
    import os

    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise UserInputError(f"invalid {what} {item!r}: want KEY=VALUE")
        if not sep and from_env:
            if key not in os.environ:
                continue
            value = os.environ[key]
        result[key] = value
    return result


def options_from_args(args: argparse.Namespace) -> object:
    """The build options of a parsed command line; reads stdin for ``-`` or ``-f -``.

    Raises:
        UserInputError: both read stdin, or stdin holds a context archive.
    """
    from hoist.builder.options import BuildOptions

    stdin_text = None
    context: str | None = args.context
    dockerfile: str | None = args.file or None
    if args.context == "-" and dockerfile == "-":
        raise UserInputError(
            "reading the build: can't use stdin for both the build context and the Dockerfile"
        )
    if args.context == "-" or dockerfile == "-":
        stdin_text = dockerfile_from_stdin(sys.stdin.buffer.read())
        context = None if args.context == "-" else context
        dockerfile = None
    return BuildOptions(
        context=context,
        dockerfile=dockerfile,
        dockerfile_text=stdin_text,
        tags=tuple(args.tag),
        build_args=_pairs(args.build_arg, "build arg", from_env=True),
        target=args.target,
        no_cache=args.no_cache,
        network=args.network,
        labels=_pairs(args.label, "label", from_env=False),
        remove_containers=args.rm,
        force_remove=args.force_rm,
        runtime=args.runtime,
        iidfile=args.iidfile or None,
        check_only=args.check,
    )


#: How compressed archives start (gzip, bzip2, xz, zstd); a tar has "ustar" at 257.
ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def dockerfile_from_stdin(data: bytes) -> str:
    """The Dockerfile read from stdin (bytes kept as they are: surrogate escapes).

    Raises:
        ContextError: stdin holds an archive (a build context), which hoist does not take.
    """
    from hoist.errors import ContextError

    if data[257:262] == b"ustar" or data.startswith(ARCHIVE_MAGIC):
        raise ContextError(
            "reading the build context from stdin: a context archive on stdin is not supported",
            hint="unpack it into a directory and give that directory as CONTEXT",
        )
    return data.decode("utf-8", errors="surrogateescape")


def _build(args: argparse.Namespace) -> int:
    """Run the build; a failed RUN ends hoist with the RUN's exit status, as docker's classic CLI.

    Raises:
        HoistError: any other failure (see :func:`hoist.build`).
    """
    from hoist.builder.api import run_build
    from hoist.cli.render import make_renderer
    from hoist.errors import BuildError

    options = options_from_args(args)
    renderer = make_renderer(args.progress, sys.stdout, quiet=args.quiet,
                             remove=args.rm or args.force_rm)  # fmt: skip
    try:
        result = run_build(options, root=args.root, sink=renderer)  # type: ignore[arg-type]
    except BuildError as exc:
        status = exc.exit_status
        if status is None or not 0 < status < 256:
            raise
        renderer.close()
        from hoist.cli.main import report_error

        report_error(exc)
        return status
    finally:
        renderer.close()
    if args.check:
        return 1 if result.warnings else 0
    return 0
