"""Archive commands: ``save``, ``load`` and ``import``, with docker's flags and output."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hoist.errors import UserInputError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("save", help="save images to a docker-archive (also an OCI layout)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=_save)

    p = subparsers.add_parser("load", help="load images from a docker or OCI archive or layout")
    p.add_argument("-i", "--input", metavar="FILE", help="read FILE (or an OCI layout dir)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    p.add_argument("--platform", help="which image of a multi-platform index (os/arch)")
    p.set_defaults(handler=_load)

    p = subparsers.add_parser("import", help="import a rootfs tarball as a one-layer image")
    p.add_argument("file", metavar="file|-")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    p.add_argument("-c", "--change", action="append", default=[],
                   help="apply a Dockerfile instruction to the image (CMD, ENV …)")  # fmt: skip
    p.add_argument("-m", "--message", default="", help="commit message for the image")
    p.add_argument("--platform", help="os/arch[/variant] of the image (default: host)")
    p.set_defaults(handler=_import)


def _save(args: argparse.Namespace) -> int:
    from hoist.export.save import collect, save_to_file, write_archive
    from hoist.store.store import Store

    with Store.open(args.root) as store:
        if args.output:
            save_to_file(store, args.images, Path(args.output))
            return 0
        if sys.stdout.isatty():
            raise UserInputError(
                "saving: cowardly refusing to write an archive to a terminal",
                hint="use -o FILE or redirect the output",
            )
        write_archive(store, collect(store, args.images), sys.stdout.buffer)
    return 0


def _load(args: argparse.Namespace) -> int:
    from hoist.export.load import load
    from hoist.models.platform import Platform
    from hoist.store.store import Store

    platform = Platform.parse(args.platform) if args.platform else None
    with Store.open(args.root) as store, _input_path(args.input, store.root) as path:
        loaded = load(store, path, platform)
    if not args.quiet:
        for item in loaded:
            for line in item.lines():
                print(line)
    return 0


@contextlib.contextmanager
def _input_path(given: str | None, root: Path) -> Iterator[Path]:
    """``-i FILE`` as is; stdin spooled into the store's ingest dir first."""
    if given:
        yield Path(given)
        return
    if sys.stdin.isatty():
        raise UserInputError("loading: no input", hint="use -i FILE or pipe an archive in")
    fd, name = tempfile.mkstemp(dir=root / "ingest", prefix="load-")
    try:
        with os.fdopen(fd, "wb") as spool:
            while chunk := sys.stdin.buffer.read(1 << 20):
                spool.write(chunk)
        yield Path(name)
    finally:
        os.unlink(name)


def _import(args: argparse.Namespace) -> int:
    from hoist.export.importer import import_tarball
    from hoist.models.platform import Platform
    from hoist.models.reference import Reference
    from hoist.store.store import Store

    ref = Reference.parse(args.reference) if args.reference else None
    platform = Platform.parse(args.platform) if args.platform else None
    with Store.open(args.root) as store:
        image_id = import_tarball(
            store, args.file, ref, changes=args.change, message=args.message, platform=platform
        )
    print(image_id)
    return 0
