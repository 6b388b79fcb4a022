"""``hoist ps``, ``hoist rm`` and ``hoist shell``: the intermediate containers a build kept.

A build keeps a RUN's container when its command failed (unless
``--force-rm``) and every RUN's container with ``--rm=false``; they are all
stopped (hoist has no daemon), so ``hoist ps`` without ``-a`` lists none, as
``docker ps`` lists no exited container. See :mod:`hoist.runtime.kept`.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hoist.runtime.kept import KeptContainer
    from hoist.store.store import Store

COMMAND_WIDTH = 20  # docker ps truncates COMMAND to 20 characters (quotes added)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "ps", help="list containers kept by builds",
        description="List the intermediate containers builds kept (a failed RUN's, or every "
        "RUN's with --rm=false). They are all exited: use -a to see them.",
    )  # fmt: skip
    p.add_argument("-a", "--all", action="store_true", help="show all containers (kept ones)")
    p.add_argument("-q", "--quiet", action="store_true", help="only display container IDs")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.set_defaults(handler=_ps)

    p = subparsers.add_parser("rm", help="remove kept containers")
    p.add_argument("-f", "--force", action="store_true", help="accepted for docker parity")
    p.add_argument("containers", nargs="+", metavar="CONTAINER", help="id or unique prefix")
    p.set_defaults(handler=_rm)

    p = subparsers.add_parser(
        "shell", help="run a shell (or CMD) in a kept container",
        description="Mount the kept container's state on a new throw-away snapshot (changes "
        "are discarded) and run /bin/sh, or CMD, with the step's env, workdir and user, "
        "on hoist's own stdin/stdout/stderr. Exits with the command's status.",
    )  # fmt: skip
    p.add_argument("--runtime", choices=("crun", "runc"), default="crun",
                   help="OCI runtime (default crun)")  # fmt: skip
    p.add_argument("container", metavar="CONTAINER", help="id or unique prefix")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")
    p.set_defaults(handler=_shell)


def _ps(args: argparse.Namespace) -> int:
    from hoist.cli.imagefmt import print_table
    from hoist.runtime.kept import list_kept
    from hoist.store.store import Store

    with Store.open(args.root) as store:
        kept = list_kept(store) if args.all else []
        rows = [_row(store, c, args.no_trunc) for c in kept]
    if args.quiet:
        for row in rows:
            print(row[0])
        return 0
    print_table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS"], rows)
    return 0


def _row(store: Store, container: KeptContainer, no_trunc: bool) -> list[str]:
    from hoist.cli.imagefmt import ellipsis

    command = " ".join(container.process.args)  # docker joins path and args with spaces
    if not no_trunc:
        command = ellipsis(command, COMMAND_WIDTH)
    return [
        container.id if no_trunc else container.short_id,
        _image_name(store, container.image_id, no_trunc),
        json.dumps(command, ensure_ascii=False),  # docker's strconv.Quote
        _ago(container.created),
        f"Exited ({container.exit_status}) {_ago(container.finished)}",
    ]


def _image_name(store: Store, image_id: str, no_trunc: bool) -> str:
    """The image's first tag, else its id (12 hex, as docker shows an untagged image)."""
    from hoist.errors import HoistError
    from hoist.models.digest import Digest

    try:
        tags = store.tags_of(Digest.parse(image_id))
    except HoistError:
        tags = ()
    if tags:
        return tags[0].familiar
    return image_id if no_trunc else image_id.removeprefix("sha256:")[:12]


def _ago(seconds: float) -> str:
    from hoist.cli.imagefmt import human_since

    return human_since(datetime.fromtimestamp(seconds, UTC).isoformat())


def _rm(args: argparse.Namespace) -> int:
    from hoist.cli.main import report_error
    from hoist.errors import HoistError
    from hoist.runtime.kept import find, remove
    from hoist.store.store import Store

    failed = False
    with Store.open(args.root) as store:
        for text in args.containers:
            try:
                remove(store, find(store, text))
            except HoistError as exc:  # docker goes on with the others, then exits 1
                report_error(exc)
                failed = True
                continue
            print(text)
    return 1 if failed else 0


def _shell(args: argparse.Namespace) -> int:
    from hoist.runtime.kept import find, shell
    from hoist.store.store import Store

    with Store.open(args.root) as store:
        cid = find(store, args.container)
        return shell(store, cid, tuple(args.command), args.runtime)
