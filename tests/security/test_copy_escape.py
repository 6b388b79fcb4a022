"""SECURITY.md A3, A4, B9, C1: COPY/ADD write only inside the rootfs, read only what they should."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.builder.httpserver import BODIES, Handler, serve
from tests.unit.context.trees import describe, fingerprint, make_tree

from hoist.builder.steps.add import AddOptions, add_into, add_url
from hoist.builder.steps.copy import copy_into
from hoist.builder.steps.fetch import FetchError, FetchLimits
from hoist.builder.steps.owner import resolve_chown
from hoist.context.select import SourceTree, select_sources
from hoist.errors import ArchiveError, BuildError, UserInputError
from hoist.fs import resolve
from hoist.fs.resolve import HAVE_OPENAT2, Root

# COPY writes files owned by 0:0 (or --chown ids): that needs root.
pytestmark = pytest.mark.root


@pytest.fixture(params=[False, True] if HAVE_OPENAT2 else [False], ids=["manual", "openat2"][:2])
def env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Path, Path]]:
    """(context, rootfs, victim): the victim lies outside both, at an absolute path."""
    victim = make_tree(tmp_path / "victim", {"hello": "victim", "sub/x": "x"})
    ctx = make_tree(tmp_path / "ctx", {"foo": "foo", "bar": "bar"})
    rootfs = make_tree(tmp_path / "rootfs", {"tmp/symlink-target": None, "run": None, "var": None})
    monkeypatch.setattr(resolve, "HAVE_OPENAT2", request.param)  # Root() picks the walk
    before = fingerprint(victim)
    yield ctx, rootfs, victim
    assert fingerprint(victim) == before, "the victim outside the rootfs changed"
    assert sorted(os.listdir(tmp_path)) == ["ctx", "rootfs", "victim"]


def copy(env: tuple[Path, Path, Path], patterns: list[str], dest: str, **kw: object) -> None:
    ctx, rootfs, _ = env
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), patterns), dest, "/", droot, **kw)  # type: ignore[arg-type]


# --- A3 ------------------------------------------------------------------------------------


def test_a3_symlinks_in_copied_tree_stay_symlinks(env: tuple[Path, Path, Path]) -> None:
    ctx, rootfs, victim = env
    os.mkdir(ctx / "sub")
    os.symlink("../../../etc/group", ctx / "sub" / "bar")
    os.symlink("/etc/passwd", ctx / "sub" / "foo")
    os.symlink(str(victim / "hello"), ctx / "sub" / "victim")
    copy(env, ["sub"], "/d")
    got = describe(rootfs / "d")
    assert got == {
        "bar": "link 0777 0:0 -> ../../../etc/group",
        "foo": "link 0777 0:0 -> /etc/passwd",
        "victim": f"link 0777 0:0 -> {victim / 'hello'}",
    }
    os.symlink("sub", ctx / "link")
    (ctx / "sub" / "real").write_text("real")
    copy(env, ["link/real"], "/e")  # testCopyThroughSymlinkContext: link -> sub is followed
    assert (rootfs / "e").read_text() == "real"


# --- A4 ------------------------------------------------------------------------------------


def test_a4_destination_through_image_symlinks(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, _ = env
    os.symlink("../tmp/symlink-target", rootfs / "symlink")
    os.symlink("/run", rootfs / "var" / "run")
    copy(env, ["foo"], "/symlink/")
    copy(env, ["bar"], "/var/run/x")
    assert (rootfs / "tmp" / "symlink-target" / "foo").read_text() == "foo"
    assert (rootfs / "run" / "x").read_text() == "bar"
    assert os.path.islink(rootfs / "symlink") and os.path.islink(rootfs / "var" / "run")


def test_a4_escape_then_absolute_stays_inside(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, victim = env
    os.symlink("..", rootfs / "escape")
    os.symlink(str(victim), rootfs / "absolute")
    os.symlink("../../../../../victim", rootfs / "up")
    copy(env, ["foo"], "/escape/absolute/")
    copy(env, ["foo"], "/up/dir/")
    copy(env, ["bar"], "/escape/../../absolute/hello")
    inside = rootfs / str(victim).lstrip("/")
    assert (inside / "foo").read_text() == "foo"
    assert (inside / "hello").read_text() == "bar"
    assert (rootfs / "victim" / "dir" / "foo").read_text() == "foo"


def test_a4_dest_symlink_final_component_replaced_not_followed(
    env: tuple[Path, Path, Path],
) -> None:
    _, rootfs, victim = env
    os.symlink(str(victim / "hello"), rootfs / "target")
    copy(env, ["foo"], "/target")
    assert not os.path.islink(rootfs / "target")
    assert (rootfs / "target").read_text() == "foo"


def test_a4_dest_dotdot_clamped(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, _ = env
    ctx, _, _ = env
    with Root(ctx) as croot, Root(rootfs) as droot:
        sources = select_sources(SourceTree(croot), ["foo"])
        copy_into(sources, "../../../../victim/hello", "/a/b", droot)
    assert (rootfs / "victim" / "hello").read_text() == "foo"


def test_a4_file_into_nondirectory_component_fails(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, _ = env
    (rootfs / "afile").write_text("f")
    with pytest.raises(BuildError, match="Not a directory"):
        copy(env, ["foo"], "/afile/sub/x")


# --- B9 ------------------------------------------------------------------------------------


def tar_member(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def add(env: tuple[Path, Path, Path], name: str, content: bytes, dest: str = "/d/") -> None:
    ctx, rootfs, _ = env
    (ctx / name).write_bytes(content)
    with Root(ctx) as croot, Root(rootfs) as droot:
        add_into(select_sources(SourceTree(croot), [name]), dest, "/", droot)


@pytest.mark.parametrize(
    "content",
    [b"plain text", gzip.compress(b"x" * 4000), b""],
    ids=["plain-text", "gzip-of-non-tar", "empty"],
)
def test_b9_not_archives_copied_verbatim(env: tuple[Path, Path, Path], content: bytes) -> None:
    _, rootfs, _ = env
    add(env, "x.tar.gz", content)
    assert (rootfs / "d" / "x.tar.gz").read_bytes() == content


def test_b9_truncated_gzip_is_an_error_and_leaves_nothing(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, _ = env
    big = tar_member("a", os.urandom(4096)) + tar_member("b", b"b")
    data = gzip.compress(big)
    with pytest.raises(ArchiveError) as info:
        add(env, "x.tar.gz", data[: len(data) // 2])
    assert "x.tar.gz" in str(info.value)
    assert not (rootfs / "d" / "a").exists() and not (rootfs / "d" / "b").exists()


def test_b9_tar_with_trailing_garbage(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, _ = env
    add(env, "t.tar", tar_member("in", b"inside") + b"garbage" * 100)
    assert (rootfs / "d" / "in").read_text() == "inside"


def test_b9_archive_entries_cannot_escape(env: tuple[Path, Path, Path]) -> None:
    _, _, victim = env
    with pytest.raises(ArchiveError):
        add(env, "evil.tar", tar_member("../../victim/hello", b"pwned"))
    assert (victim / "hello").read_text() == "victim"


# --- C1 ------------------------------------------------------------------------------------

FAST = FetchLimits(max_bytes=1 << 20, timeout=5, deadline=1.5)


def fetch(env: tuple[Path, Path, Path], url: str, dest: str = "/dl/", **kw: object) -> Path:
    _, rootfs, _ = env
    with Root(rootfs) as droot:
        add_url(url, dest, "/", droot, add=AddOptions(limits=FAST, **kw))  # type: ignore[arg-type]
    return rootfs


@pytest.mark.parametrize("path", ["/to-file", "/to-ftp"])
def test_c1_redirects_only_to_http(env: tuple[Path, Path, Path], path: str) -> None:
    _, rootfs, _ = env
    with serve() as base, pytest.raises(FetchError, match=r"(?i)redirect"):
        fetch(env, base + path)
    assert not (rootfs / "dl").exists()


def test_c1_redirects_bounded(env: tuple[Path, Path, Path]) -> None:
    Handler.hits.clear()
    with serve() as base:
        with pytest.raises(FetchError, match="302"):
            fetch(env, base + "/loop/0")
        rootfs = fetch(env, base + "/hop/3")  # a short chain is fine
    hops = [p for p in Handler.hits if p.startswith("/loop/")]
    assert len(hops) <= 11
    assert (rootfs / "dl" / "3").read_bytes() == BODIES["/dir/file.txt"]


def test_c1_content_disposition_ignored(env: tuple[Path, Path, Path]) -> None:
    with serve() as base:
        rootfs = fetch(env, base + "/cd")
    assert os.listdir(rootfs / "dl") == ["cd"]
    assert (rootfs / "dl" / "cd").read_bytes() == BODIES["/cd"]


def test_c1_huge_stream_limited(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, _ = env
    with serve() as base, pytest.raises(FetchError, match="larger than the limit"):
        fetch(env, base + "/huge")
    assert not (rootfs / "dl").exists()


def test_c1_never_ending_stream_limited(env: tuple[Path, Path, Path]) -> None:
    start = time.monotonic()
    with serve() as base, pytest.raises(FetchError, match="took longer"):
        fetch(env, base + "/slow")
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(("path", "name"), [("/", "index.html"), ("/%2e%2e", "index.html")])
def test_c1_names_from_url_path(env: tuple[Path, Path, Path], path: str, name: str) -> None:
    with serve() as base:
        rootfs = fetch(env, base + path)
    assert os.listdir(rootfs / "dl") == [name]


def test_c1_remote_archive_not_extracted(env: tuple[Path, Path, Path]) -> None:
    with serve() as base:
        rootfs = fetch(env, base + "/a.tar.gz")
    assert os.listdir(rootfs / "dl") == ["a.tar.gz"]


def test_chown_names_come_from_the_image_not_the_host(env: tuple[Path, Path, Path]) -> None:
    _, rootfs, victim = env
    (victim / "passwd").write_text("evil:x:4242:4242::/:/bin/sh\n")
    (rootfs / "etc").mkdir()
    os.symlink(str(victim / "passwd"), rootfs / "etc" / "passwd")  # resolved inside the rootfs
    with Root(rootfs) as droot:
        with pytest.raises(UserInputError, match="passwd"):
            resolve_chown("evil", droot)
        with pytest.raises(UserInputError, match="no 'root'"):
            os.unlink(rootfs / "etc" / "passwd")
            (rootfs / "etc" / "passwd").write_text("app:x:1000:1000::/:/bin/sh\n")
            resolve_chown("root", droot)  # the host has root; the image does not
        assert resolve_chown("app:0", droot) == (1000, 0)
    os.unlink(victim / "passwd")  # leave the victim as the fixture found it
