"""Image commands: ``images``, ``inspect``, ``history``, ``tag``, ``rmi``.

Flag names and output shapes are docker's. Heavy modules are imported inside
the handlers so ``hoist --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from hoist.cli import imagefmt
from hoist.errors import HoistError

if TYPE_CHECKING:
    from hoist.store.records import ImageSummary, StoredImage
    from hoist.store.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("images", help="list images")
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
    p.add_argument("-a", "--all", action="store_true", help="show intermediate images too")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.add_argument("--format", help="'json' or a Go-style template ({{.ID}} …)")
    p.set_defaults(handler=_images)

    p = subparsers.add_parser("inspect", help="show details of images as JSON")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", help="Go-style template ({{.Id}}, {{json .Config}} …)")
    p.set_defaults(handler=_inspect)

    p = subparsers.add_parser("history", help="show the history of an image")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-H", "--human", default=True, action=argparse.BooleanOptionalAction,
                   help="human-readable sizes and dates (default true)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.add_argument("--format", help="'json' or a Go-style template")
    p.set_defaults(handler=_history)

    p = subparsers.add_parser("tag", help="create a tag TARGET that refers to SOURCE")
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    p.set_defaults(handler=_tag)

    p = subparsers.add_parser("rmi", help="remove images")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--force", action="store_true",
                   help="remove even if other repositories or children need it")  # fmt: skip
    p.add_argument("--no-prune", action="store_true", help="do not delete untagged parents")
    p.set_defaults(handler=_rmi)


def _open(args: argparse.Namespace) -> Store:
    from hoist.store.store import Store

    return Store.open(args.root)


# -- images --------------------------------------------------------------------


def _images(args: argparse.Namespace) -> int:
    with _open(args) as store:
        summaries = store.list_images(include_intermediate=args.all)
    rows = [row for s in summaries for row in _image_rows(s, args.no_trunc)]
    if args.repository:
        rows = [r for r in rows if _matches(r, args.repository)]
    if args.quiet:
        for ident in dict.fromkeys(r["ID"] for r in rows):
            print(ident)
    elif args.format:
        imagefmt.print_formatted(args.format, rows)
    else:
        headers = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
        cells = [[r["Repository"], r["Tag"], r["ID"], r["CreatedSince"], r["Size"]] for r in rows]
        imagefmt.print_table(headers, cells)
    return 0


def _image_rows(summary: ImageSummary, no_trunc: bool) -> list[dict[str, Any]]:
    ident = str(summary.id) if no_trunc else summary.id.short
    names = [(ref.familiar_name, ref.tag or "<none>") for ref in summary.tags]
    return [
        {
            "Containers": "N/A",
            "CreatedAt": imagefmt.created_at(summary.created),
            "CreatedSince": imagefmt.human_since(summary.created),
            "Digest": "<none>",
            "ID": ident,
            "Repository": repo,
            "SharedSize": "N/A",
            "Size": imagefmt.human_size(summary.size),
            "Tag": tag,
            "UniqueSize": "N/A",
            "VirtualSize": imagefmt.human_size(summary.size),
        }
        for repo, tag in names or [("<none>", "<none>")]
    ]


def _matches(row: dict[str, Any], wanted: str) -> bool:
    repo, _, tag = (
        wanted.partition(":") if "/" not in wanted.rpartition(":")[2] else (wanted, "", "")
    )
    return row["Repository"] == repo and (not tag or row["Tag"] == tag)


# -- inspect -------------------------------------------------------------------

_DOCKER_CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}  # fmt: skip


def inspect_object(stored: StoredImage) -> dict[str, Any]:
    """The JSON ``docker image inspect`` prints for one image (plus ``History``)."""
    config = stored.image.config
    history = json.loads(config.to_json()).get("history", [])
    return {
        "Id": str(stored.id),
        "RepoTags": [ref.familiar for ref in stored.tags],
        "RepoDigests": [],
        "Parent": str(stored.parent) if stored.parent else "",
        "Comment": history[-1].get("comment", "") if history else "",
        "Created": config.created or "",
        "DockerVersion": config.extra.get("docker_version", ""),
        "Author": config.author,
        "Config": {**_DOCKER_CONFIG_DEFAULTS, **config.config.to_json()},
        "Architecture": config.architecture,
        **({"Variant": config.variant} if config.variant else {}),
        "Os": config.os,
        "Size": stored.size,
        "RootFS": {"Type": "layers", "Layers": [str(d) for d in config.rootfs.diff_ids]},
        "History": history,
        "Metadata": {"LastTagTime": ""},
    }


def _inspect(args: argparse.Namespace) -> int:
    from hoist.errors import ImageNotFound

    found, status = [], 0
    with _open(args) as store:
        for text in args.images:
            try:
                found.append(inspect_object(store.get_image(text)))
            except ImageNotFound as exc:
                print(f"hoist: error: {exc.message}", file=sys.stderr)
                status = 1
    if args.format:
        imagefmt.print_formatted(args.format, found)
    else:
        print(json.dumps(found, indent=4, ensure_ascii=False))
    return status


# -- history -------------------------------------------------------------------


def _history(args: argparse.Namespace) -> int:
    with _open(args) as store:
        stored = store.get_image(args.image)
        rows = _history_rows(store, stored, args)
    if args.quiet:
        for row in rows:
            print(row["ID"])
    elif args.format:
        imagefmt.print_formatted(args.format, rows)
    else:
        headers = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
        cells = [
            [r["ID"], r["CreatedSince"], r["CreatedBy"], r["Size"], r["Comment"]] for r in rows
        ]
        imagefmt.print_table(headers, cells)
    return 0


def _history_rows(
    store: Store, stored: StoredImage, args: argparse.Namespace
) -> list[dict[str, Any]]:
    owners = _history_owners(store, stored)
    diff_ids = iter(stored.image.diff_ids)
    layers = iter(stored.image.layers)
    rows = []
    for index, entry in enumerate(stored.image.config.history):
        size = 0
        if not entry.empty_layer:
            diff_id, layer = next(diff_ids, None), next(layers, None)
            if diff_id is not None and layer is not None:
                size = store.tables.diff_size_get(diff_id) or layer.size
        owner = owners.get(index)
        ident = "<missing>" if owner is None else (owner if args.no_trunc else owner[7:19])
        since = imagefmt.human_since(entry.created)
        created_by = entry.created_by if args.no_trunc else imagefmt.ellipsis(entry.created_by, 45)
        rows.append({
            "ID": ident,
            "CreatedAt": entry.created or "",
            "CreatedSince": since if args.human else entry.created or "",
            "CreatedBy": created_by,
            "Size": imagefmt.human_size(size) if args.human else str(size),
            "Comment": entry.comment,
        })  # fmt: skip
    return rows[::-1]


def _history_owners(store: Store, stored: StoredImage) -> dict[int, str]:
    """Which history entries are the tops of images in the local parent chain."""
    owners = {len(stored.image.config.history) - 1: str(stored.id)}
    parent, seen = stored.parent, {stored.id}
    while parent is not None and parent not in seen:
        seen.add(parent)
        try:
            image = store.get_image(str(parent))
        except HoistError:  # a damaged parent only costs the IDs in this listing
            break
        owners.setdefault(len(image.image.config.history) - 1, str(parent))
        parent = image.parent
    return owners


# -- tag, rmi ------------------------------------------------------------------


def _tag(args: argparse.Namespace) -> int:
    from hoist.models.reference import Reference

    target = Reference.parse(args.target)
    with _open(args) as store:
        store.tag(store.resolve(args.source), target)
    return 0


def _rmi(args: argparse.Namespace) -> int:
    from hoist.errors import StoreError

    status = 0
    with _open(args) as store:
        for text in args.images:
            try:
                events = store.remove_image(text, force=args.force, prune=not args.no_prune)
            except StoreError as exc:
                print(f"hoist: error: {exc.message}", file=sys.stderr)
                status = 1
                continue
            for event in events:
                print(event)
    return status
