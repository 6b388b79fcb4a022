from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoist.context.ignore import parse_ignore
from hoist.context.select import (
    SourceTree,
    has_wildcards,
    iter_tree,
    open_selected_dir,
    select_sources,
)
from hoist.errors import ContextError
from hoist.fs.resolve import HAVE_OPENAT2, Root
from tests.unit.context.trees import make_tree

LAYOUT = {
    "a.txt": "a",
    "b.txt": "b",
    "c.md": "c",
    ".hidden.txt": "h",
    "sub/foo": "foo",
    "sub/deep/x.txt": "x",
    "sub2/foo": "foo2",
    "link": ("link", "sub"),
    "abs-link": ("link", "/sub/foo"),
    "evil": ("link", "/etc"),
    "dangling": ("link", "nowhere"),
    "star*name": "literal star",
    "..gitme": "dots",
}


@pytest.fixture(params=[False, True] if HAVE_OPENAT2 else [False], ids=["manual", "openat2"][:2])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SourceTree]:
    make_tree(tmp_path / "ctx", LAYOUT)
    with Root(tmp_path / "ctx", use_openat2=request.param) as root:
        yield SourceTree(root)


def paths(tree: SourceTree, *patterns: str) -> list[tuple[str, str]]:
    return [(s.path, s.name) for s in select_sources(tree, patterns, where="Dockerfile:3")]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a.txt", [("a.txt", "a.txt")]),
        ("/a.txt", [("a.txt", "a.txt")]),
        ("./sub/../a.txt", [("a.txt", "a.txt")]),
        ("*.txt", [(".hidden.txt", ".hidden.txt"), ("a.txt", "a.txt"), ("b.txt", "b.txt")]),
        ("?.txt", [("a.txt", "a.txt"), ("b.txt", "b.txt")]),
        ("[ab].txt", [("a.txt", "a.txt"), ("b.txt", "b.txt")]),
        ("[^a].txt", [("b.txt", "b.txt")]),
        ("[a-b].txt", [("a.txt", "a.txt"), ("b.txt", "b.txt")]),
        ("sub*/foo", [("sub/foo", "foo"), ("sub2/foo", "foo")]),
        # the symlink "link -> sub" is followed while globbing, as BuildKit does
        ("*/deep/*.txt", [("sub/deep/x.txt", "x.txt")] * 2),
        ("s*/deep/*.txt", [("sub/deep/x.txt", "x.txt")]),
        ("star\\*name", [("star*name", "star*name")]),
        ("..gitme", [("..gitme", "..gitme")]),
        (".", [(".", "")]),
        ("sub", [("sub", "sub")]),
        ("sub/", [("sub", "sub")]),
    ],
)
def test_patterns(ctx: SourceTree, pattern: str, expected: list[tuple[str, str]]) -> None:
    assert paths(ctx, pattern) == expected


def test_several_patterns_keep_order(ctx: SourceTree) -> None:
    assert paths(ctx, "c.md", "a.txt") == [("c.md", "c.md"), ("a.txt", "a.txt")]


@pytest.mark.parametrize(
    ("pattern", "resolved", "name"),
    [
        ("link/foo", "sub/foo", "foo"),  # testCopyThroughSymlinkContext
        ("link", "sub", "link"),  # the final symlink is followed, its name kept
        ("abs-link", "sub/foo", "abs-link"),  # absolute targets restart at the context root
        ("l*/deep", "sub/deep", "deep"),
    ],
)
def test_symlinks_resolved_inside_context(
    ctx: SourceTree, pattern: str, resolved: str, name: str
) -> None:
    assert paths(ctx, pattern) == [(resolved, name)]


@pytest.mark.parametrize(
    "pattern", ["evil/passwd", "evil/hostname", "dangling", "missing", "*.nothing", "sub/*/*.md"]
)
def test_not_found_names_source_and_line(ctx: SourceTree, pattern: str) -> None:
    with pytest.raises(ContextError) as info:
        select_sources(ctx, [pattern], where="Dockerfile:3")
    assert pattern in str(info.value)
    assert "Dockerfile:3" in str(info.value)
    assert "not found" in str(info.value)


@pytest.mark.parametrize("pattern", ["../a.txt", "../../a.txt", "/../../a.txt", "sub/../../a.txt"])
def test_dotdot_is_clamped_at_the_context_root(ctx: SourceTree, pattern: str) -> None:
    assert paths(ctx, pattern) == [("a.txt", "a.txt")]


@pytest.mark.parametrize("pattern", ["[", "a[", "[]", "[\\", "[a-]"])
def test_bad_pattern_is_an_error(ctx: SourceTree, pattern: str) -> None:
    with pytest.raises(ContextError, match="syntax error"):
        select_sources(ctx, [pattern + "*"])


def test_has_wildcards() -> None:
    assert has_wildcards("a*") and has_wildcards("a?") and has_wildcards("[a]")
    assert not has_wildcards("a\\*b") and not has_wildcards("plain/path")


def _ignoring(ctx: SourceTree, text: str) -> SourceTree:
    return SourceTree(ctx.root, ignore=parse_ignore(text))


def test_ignored_files_are_invisible(ctx: SourceTree) -> None:
    tree = _ignoring(ctx, "*.txt\n!b.txt\n")
    assert paths(tree, "*.txt") == [("b.txt", "b.txt")]
    with pytest.raises(ContextError, match="not found") as info:
        select_sources(tree, ["a.txt"], where="Dockerfile:9")
    assert "Dockerfile:9" in str(info.value)
    assert info.value.hint is not None


def test_ignored_directory_hides_its_children(ctx: SourceTree) -> None:
    tree = _ignoring(ctx, "sub\n")
    with pytest.raises(ContextError):
        select_sources(tree, ["sub/foo"])
    # a symlink into an ignored directory does not reveal it either
    with pytest.raises(ContextError):
        select_sources(tree, ["link/foo"])
    assert paths(tree, "sub*") == [("sub2", "sub2")]


def test_ignored_directory_with_exception_shows_only_it(ctx: SourceTree) -> None:
    tree = _ignoring(ctx, "sub\n!sub/deep/x.txt\n")
    (sel,) = select_sources(tree, ["sub"])
    fd = open_selected_dir(sel)
    try:
        listed = [e.path for e in iter_tree(tree, fd, sel.path)]
    finally:
        os.close(fd)
    assert listed == ["sub/deep", "sub/deep/x.txt"]


def test_walk_skips_sockets_and_lists_fifos_without_opening(tmp_path: Path) -> None:
    import socket

    make_tree(tmp_path / "c", {"d/f": "f", "d/fifo": ("fifo",)})
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "c" / "d" / "sock"))
    try:
        with Root(tmp_path / "c") as root:
            tree = SourceTree(root)
            (sel,) = select_sources(tree, ["d"])
            fd = open_selected_dir(sel)
            try:
                names = [e.name for e in iter_tree(tree, fd, sel.path)]
            finally:
                os.close(fd)
            assert names == ["f", "fifo"]
            with pytest.raises(ContextError, match="not found"):
                select_sources(tree, ["d/sock"])
    finally:
        sock.close()


def test_parents_and_pivot(ctx: SourceTree) -> None:
    sel = select_sources(ctx, ["sub/deep/x.txt", "sub/./deep/x.txt", "sub*/foo"])
    assert [(s.parents, s.name) for s in sel] == [
        ("sub/deep", "x.txt"),
        ("deep", "x.txt"),
        ("sub", "foo"),
        ("sub2", "foo"),
    ]


def test_exclude_filters_wildcard_matches(ctx: SourceTree) -> None:
    tree = SourceTree(ctx.root, exclude=parse_ignore("b.txt\n"))
    assert [s.name for s in select_sources(tree, ["?.txt"])] == ["a.txt"]
