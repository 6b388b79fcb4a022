"""``hoist run``: run an image in the foreground, like ``docker run``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help="run a command in a new container from an image",
        description="Run IMAGE in the foreground (ENTRYPOINT, CMD, Env, WorkingDir and User "
        "from its config) and exit with the container's exit code. The container is always "
        "removed afterwards.",
    )
    parser.add_argument("--rm", action="store_true",
                        help="remove the container on exit (always the case; for docker parity)")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="K=V",
                        help="set an environment variable (K alone: take it from hoist's)")
    parser.add_argument("-w", "--workdir", metavar="DIR", help="working directory (absolute)")
    parser.add_argument("-u", "--user", metavar="USER", help="user[:group], names or ids")
    parser.add_argument("--network", choices=("host", "none"), default="host",
                        help="host network (default) or a private one with loopback only")
    parser.add_argument("--entrypoint", metavar="X", help="override the image's ENTRYPOINT")
    parser.add_argument("--runtime", choices=("crun", "runc"), default="crun",
                        help="OCI runtime (default crun)")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from hoist.runtime.container import RunOptions, run_image
    from hoist.store.store import Store

    options = RunOptions(
        command=tuple(args.command),
        entrypoint=args.entrypoint,
        env=tuple(args.env),
        workdir=args.workdir,
        user=args.user,
        network=args.network,
        runtime=args.runtime,
    )
    with Store.open(args.root) as store:
        return run_image(store, args.image, options)
