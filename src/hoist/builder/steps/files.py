"""COPY, ADD and WORKDIR as build steps: their cache inputs, and their effect on a rootfs.

Two phases per step. :func:`sources_component` runs before the cache lookup
and reads only what the step selects (context files through the stat-keyed
checksum cache; a stage or image source by its image ID; a URL by its
content). :func:`apply_copy` runs on a miss, inside the step's snapshot.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from hoist.builder.context import BuildContext
from hoist.builder.steps.add import AddOptions, add_into, add_url, check_add_source
from hoist.builder.steps.copy import copy_into
from hoist.builder.steps.copydest import CopyOptions
from hoist.builder.steps.fetch import fetch_url, is_url
from hoist.builder.steps.inline import InlineFile, write_file
from hoist.builder.steps.owner import parse_chmod, resolve_chown
from hoist.context.checksum import source_digests
from hoist.context.ignore import parse_ignore
from hoist.context.select import Selected, SourceTree, select_sources
from hoist.dockerfile import Add, Copy
from hoist.errors import ContextError, UserInputError
from hoist.fs.resolve import DirSpec, Root
from hoist.runtime.users import resolve_user

COPY_FLAGS = frozenset({"from", "chown", "chmod", "link", "parents", "exclude"})
#: A directory source with at most this many entries keeps them in its cache key
#: components, so that a miss can name the files that changed.
MAX_EXPLAINED_FILES = 5000
ADD_FLAGS = frozenset({"chown", "chmod", "link", "checksum", "unpack", "exclude"})


class SourceRoot(msgspec.Struct, frozen=True):
    """Where a COPY reads from: the context dir, or another image's mounted rootfs."""

    path: Path
    keep_owner: bool
    label: str


def heredoc_names(instr: Copy | Add) -> dict[str, int]:
    """Source words that name a heredoc (``<<EOF``, ``<<-"EOF"``) → index into heredocs."""
    names = {doc.name: i for i, doc in enumerate(instr.heredocs)}
    found = {}
    for word in instr.sources:
        name = word.removeprefix("<<").removeprefix("-").strip("'\"")
        if word.startswith("<<") and name in names:
            found[word] = names[name]
    return found


def _file_sources(instr: Copy | Add) -> tuple[str, ...]:
    inline = heredoc_names(instr)
    return tuple(s for s in instr.sources if s not in inline)


def _exclude(instr: Copy | Add, where: str) -> Any:
    if not instr.exclude:
        return None
    return parse_ignore("\n".join(instr.exclude), filename=f"{where} --exclude")


@contextmanager
def open_tree(src: SourceRoot, ctx: BuildContext, instr: Copy | Add) -> Iterator[SourceTree]:
    """A :class:`SourceTree` over ``src`` (the ignore file applies to the context only)."""
    ignore = None if src.keep_owner else ctx.ignore
    with Root(src.path) as root:
        yield SourceTree(
            root,
            ignore=ignore,
            exclude=_exclude(instr, ctx.where(instr.source.start)),
            label=src.label,
            keep_owner=src.keep_owner,
        )


def select(tree: SourceTree, instr: Copy | Add, where: str) -> list[Selected]:
    patterns = _file_sources_local(instr)
    return select_sources(tree, patterns, where=where) if patterns else []


def sources_component(
    ctx: BuildContext, instr: Copy | Add, src: SourceRoot | None, from_image: str | None
) -> list[dict[str, Any]]:
    """What the step reads, as cache-key components (never mtimes).

    Raises:
        ContextError: a source is missing or unreadable.
        FetchError: a URL cannot be fetched.
    """
    where = ctx.where(instr.source.start)
    items: list[dict[str, Any]] = [
        {"heredoc": instr.heredocs[i].name, "content": instr.heredocs[i].content}
        for i in heredoc_names(instr).values()
    ]
    for url in (s for s in _file_sources(instr) if is_url(s)):
        items.append(_url_component(ctx, url, instr, where))
    if from_image is not None:
        return [*items, {"from": from_image, "patterns": list(_file_sources(instr))}]
    if src is None:
        return items
    with open_tree(src, ctx, instr) as tree:
        for sel in select(tree, instr, where):
            ctx.inputs.tree(src.path / sel.path, src.path)
            items.append(_source_item(sel, ctx))
    return items


def _source_item(sel: Selected, ctx: BuildContext) -> dict[str, Any]:
    """A source's checksum, with its files' checksums when few enough to explain a miss."""
    total, entries = source_digests(sel, ctx.checksums)
    item: dict[str, Any] = {
        "path": _json_text(sel.path),
        "name": _json_text(sel.name),
        "parents": _json_text(sel.parents),
        "sum": total,
    }
    if sel.is_dir and len(entries) <= MAX_EXPLAINED_FILES:
        item["files"] = {_json_text(path): digest for path, digest in entries.items()}
    return item


def _json_text(path: str) -> str:
    """A file name as JSON can carry it: bytes that are not UTF-8 become ``\\xNN``.

    Only for reading a key: ``sum`` hashes the names as bytes, so two names that
    print alike still give different keys.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _url_component(ctx: BuildContext, url: str, instr: Copy | Add, where: str) -> dict[str, Any]:
    if not isinstance(instr, Add):
        raise UserInputError(f"{where}: COPY cannot take a URL ({url}); use ADD")
    check_add_source(url, where)
    ctx.inputs.spoil(f"{where} reads {url}")
    with tempfile.TemporaryFile(prefix="hoist-url-") as tmp:
        result = fetch_url(url, tmp, checksum=instr.checksum)  # type: ignore[arg-type]
    return {"url": url, "sha256": result.sha256, "mtime_ns": result.mtime_ns}


def copy_options(instr: Copy | Add, root: Root) -> CopyOptions:
    """``--chown`` resolved in the destination image, ``--chmod`` parsed."""
    chown = resolve_chown(instr.chown, root) if instr.chown else None
    chmod = parse_chmod(instr.chmod) if instr.chmod else None
    return CopyOptions(chown=chown, chmod=chmod, parents=getattr(instr, "parents", False))


def apply_copy(
    ctx: BuildContext, instr: Copy | Add, src: SourceRoot | None, rootfs: Path, workdir: str
) -> None:
    """Perform the COPY/ADD into ``rootfs``.

    Raises:
        ContextError, BuildError, ArchiveError, FetchError: as the copy helpers.
    """
    where = ctx.where(instr.source.start)
    with Root(rootfs) as root:
        options = copy_options(instr, root)
        several = len(instr.sources) > 1
        _write_heredocs(instr, root, workdir, options, several)
        _add_urls(instr, root, workdir, options, several, where)
        if src is None:
            if _file_sources_local(instr):
                raise ContextError(
                    f"{where}: {instr.keyword} needs a build context, but there is none"
                )
            return
        with open_tree(src, ctx, instr) as tree:
            selected = select(tree, instr, where)
            _copy_selected(instr, selected, root, workdir, options, several, where)


def _file_sources_local(instr: Copy | Add) -> list[str]:
    return [s for s in _file_sources(instr) if not is_url(s)]


def _copy_selected(
    instr: Copy | Add,
    selected: Sequence[Selected],
    root: Root,
    workdir: str,
    options: CopyOptions,
    several: bool,
    where: str,
) -> None:
    if not selected:
        return
    if isinstance(instr, Add):
        add = AddOptions(unpack=instr.unpack, checksum=instr.checksum)
        add_into(selected, instr.dest, workdir, root, options=options, add=add, where=where)
    else:
        copy_into(
            selected, instr.dest, workdir, root, options=options, where=where, force_dir=several
        )


def _write_heredocs(
    instr: Copy | Add, root: Root, workdir: str, options: CopyOptions, several: bool
) -> None:
    for i in heredoc_names(instr).values():
        doc = instr.heredocs[i]
        with tempfile.TemporaryFile(prefix="hoist-heredoc-") as tmp:
            tmp.write(doc.content.encode())
            tmp.seek(0)
            write_file(
                InlineFile(doc.name),
                tmp.fileno(),
                instr.dest,
                workdir,
                root,
                options=options,
                as_dir=several,
            )


def _add_urls(
    instr: Copy | Add, root: Root, workdir: str, options: CopyOptions, several: bool, where: str
) -> None:
    if not isinstance(instr, Add):
        return
    for url in (s for s in instr.sources if is_url(s)):
        add = AddOptions(unpack=instr.unpack, checksum=instr.checksum)
        add_url(
            url, instr.dest, workdir, root, options=options, add=add, where=where, force_dir=several
        )


def make_workdir(rootfs: Path, path: str, user: str) -> None:
    """WORKDIR: create the directory inside the rootfs, 0755, owned by the stage's USER.

    BuildKit creates missing WORKDIR components as the current user (resolved
    in the image's own passwd and group files).

    Raises:
        UserInputError: a component exists and is not a directory, or USER
            cannot be resolved.
    """
    owner = resolve_user(rootfs, user) if user else None
    spec = DirSpec(0o755, owner.uid, owner.gid) if owner else DirSpec()
    try:
        with Root(rootfs) as root:
            os.close(root.mkdir_all(path, spec))
    except OSError as exc:
        raise UserInputError(f"WORKDIR {path}: {exc.strerror}") from exc
