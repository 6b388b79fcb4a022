"""Store maintenance: ``prune`` (kept containers, dangling images, unreferenced blobs)
and ``fsck``."""

from __future__ import annotations

import argparse
from pathlib import Path

from hoist.cli.imagefmt import human_size
from hoist.errors import StoreError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "prune", help="remove kept containers, dangling images and unreferenced blobs",
        description="Remove every kept container (docker's container prune), then dangling "
        "images (untagged, no children), then unreferenced blobs and unpacked layers.",
    )  # fmt: skip
    p.add_argument("-f", "--force", action="store_true", help="do not prompt (never prompts)")
    p.add_argument("--keep-containers", action="store_true",
                   help="keep the kept containers, and the images and layers they need")
    p.set_defaults(handler=_prune)

    p = subparsers.add_parser("fsck", help="verify every blob and record of the store")
    p.add_argument("--repair", action="store_true", help="remove what is broken")
    p.set_defaults(handler=_fsck)


def _prune(args: argparse.Namespace) -> int:
    from hoist.runtime.kept import remove_all
    from hoist.store.store import Store

    with Store.open(args.root) as store:
        containers = [] if args.keep_containers else remove_all(store)
        events, collected = store.prune()
    if containers:
        print("Deleted Containers:")
        for cid in containers:
            print(cid)
        print()
    if events:
        print("Deleted Images:")
        for event in events:
            print(f"deleted: {event.what}")
        print()
    print(f"Total reclaimed space: {human_size(collected.reclaimed)}")
    return 0


def _fsck(args: argparse.Namespace) -> int:
    from hoist.store.db import DatabaseDamaged, set_aside
    from hoist.store.store import Store, default_root

    try:
        Store.open(args.root).close()
    except DatabaseDamaged:
        if not args.repair:
            raise
        root = Path(args.root) if args.root else default_root()
        try:
            backup = set_aside(root / "hoist.db")
        except OSError as exc:
            raise StoreError(f"moving the damaged database aside: {exc}") from exc
        print(f"repaired: damaged database moved to {backup}; rebuilding from index.json")
    with Store.open(args.root) as store:
        problems = store.fsck(repair=args.repair)
        remaining = store.fsck() if args.repair and problems else problems
    for line in problems:
        print(f"{'repaired' if args.repair else 'problem'}: {line}")
    if remaining:
        if args.repair:
            for line in remaining:
                print(f"still broken: {line}")
        print(f"fsck: {len(remaining)} problem(s) in {store.root}")
        return 1
    print(f"fsck: {store.root} is consistent")
    return 0
